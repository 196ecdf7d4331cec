import { z } from 'zod';
import { TASK_POOLS } from '../core/task-pool.js';
import type { TaskKind } from './task.js';

/**
 * The pull protocol between Executors and the Scheduler (DESIGN.md section 6): an Executor says
 * hello, then long-polls for tasks, heartbeats the leases it holds, sends their logs, and
 * completes or releases them (the completion's schemas are in task-completion-api.ts). Every
 * call on a claimed task carries the lease's fencing epoch. Fields are snake_case, times are
 * epoch milliseconds in fields named `..._ms`, and every request object is strict.
 */

/** The protocol versions this Scheduler speaks, oldest first. */
export const PROTOCOL_VERSIONS: readonly number[] = [1];

/** The newest version in both `offered` and `spoken`, or undefined when they share none. */
export function newestCommonVersion(
  offered: readonly number[],
  spoken: readonly number[] = PROTOCOL_VERSIONS,
): number | undefined {
  const common = offered.filter((version) => spoken.includes(version));
  return common.length === 0 ? undefined : Math.max(...common);
}

/** The longest a claim may wait for a task, in seconds. */
export const MAX_POLL_WAIT_SEC = 50;

/** The most tasks one claim may ask for, and the most slots an Executor may have. */
export const MAX_SLOTS = 256;

export const executorIdSchema = z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/, {
  message: 'must be 1-128 characters of A-Z, a-z, 0-9, ".", "_", ":" or "-"',
});

export const taskPoolSchema = z.enum(TASK_POOLS as readonly ['apply', 'run']);

/** One to two pools, each named once. */
const poolsSchema = z
  .array(taskPoolSchema)
  .min(1)
  .max(TASK_POOLS.length)
  .refine((pools) => new Set(pools).size === pools.length, {
    message: 'must name each pool once',
  });

/** An epoch as the Scheduler handed it out with a lease. */
const epochSchema = z.number().int().min(1);

const epochMsSchema = z.number().int().nonnegative();

/** `POST /v1/executors/hello`: who the Executor is and what it can do. */
export const helloRequestSchema = z.strictObject({
  executor_id: executorIdSchema,
  /** What the Executor says it is, such as `sluice/0.1.0`. */
  agent: z.string().max(200),
  protocol_versions: z.array(z.number().int().min(1)).min(1).max(20),
  pools: poolsSchema,
  slots: z.number().int().min(1).max(MAX_SLOTS),
});

export type HelloRequest = z.infer<typeof helloRequestSchema>;

/** The version chosen and the timings the Scheduler sets for this Executor. */
export const helloResponseSchema = z.strictObject({
  protocol_version: z.number().int(),
  executor_id: z.string(),
  /** How long a claim waits when it does not say. */
  poll_wait_sec: z.number().int(),
  /** How often to heartbeat each lease held. */
  heartbeat_interval_sec: z.number().int(),
  /** How long a lease lasts after a claim or a heartbeat. */
  lease_sec: z.number().int(),
});

export type HelloResponse = z.infer<typeof helloResponseSchema>;

/** `POST /v1/tasks/claim`: a long poll for up to `max_tasks` ready tasks. */
export const claimRequestSchema = z.strictObject({
  executor_id: executorIdSchema,
  /** The Executor's free slots. */
  max_tasks: z.number().int().min(1).max(MAX_SLOTS),
  /** How long to wait for a task; the hello's `poll_wait_sec` when absent. */
  wait_sec: z.number().int().min(0).max(MAX_POLL_WAIT_SEC).optional(),
  /** The pools to claim from, of those the hello named; all of them when absent. */
  pools: poolsSchema.optional(),
});

export type ClaimRequest = z.infer<typeof claimRequestSchema>;

const TASK_KINDS = [
  'create',
  'evaluate',
  'audit',
  'promote',
  'cleanup',
] as const satisfies readonly TaskKind[];

/**
 * A task definition, shaped as `Task` in task.ts describes it (camelCase, as the Scheduler
 * queued it). Only the fields every kind shares are checked; the rest pass through unchecked,
 * because no zod schema of `Model` (which model tasks carry) exists yet. Writing one, and a
 * schema per task kind here, would let the Executor check the whole definition too.
 */
export const taskDefinitionSchema = z.looseObject({
  id: z.string(),
  runId: z.string(),
  kind: z.enum(TASK_KINDS),
  pool: taskPoolSchema,
});

/** A task definition as the claim's answer carries it. */
export type TaskDefinitionInfo = z.input<typeof taskDefinitionSchema>;

/** One task leased to the caller: its attempt, the fencing epoch and when the lease ends. */
export const claimedTaskSchema = z.strictObject({
  id: z.string(),
  attempt: z.number().int().min(1),
  epoch: epochSchema,
  lease_expires_at_ms: epochMsSchema,
  task: taskDefinitionSchema,
});

export type ClaimedTaskInfo = z.infer<typeof claimedTaskSchema>;

/** The tasks claimed; at least one (no task is a 204 without a body). */
export const claimResponseSchema = z.strictObject({ tasks: z.array(claimedTaskSchema).min(1) });

export type ClaimResponse = z.infer<typeof claimResponseSchema>;

/** The path of the calls on one claimed task. */
export const taskPathSchema = z.strictObject({ id: z.string().min(1).max(200) });

/** `POST /v1/tasks/{id}/heartbeat` and `/release`: the epoch of the lease held. */
export const leaseCallRequestSchema = z.strictObject({ epoch: epochSchema });

export type LeaseCallRequest = z.infer<typeof leaseCallRequestSchema>;

export const heartbeatResponseSchema = z.strictObject({
  lease_expires_at_ms: epochMsSchema,
  /** The task's run was cancelled: stop the task and complete it as failed. */
  cancel_requested: z.boolean(),
});

export type HeartbeatResponse = z.infer<typeof heartbeatResponseSchema>;

export const releaseResponseSchema = z.strictObject({ released: z.literal(true) });

/** One log line; the Executor redacts data values before sending it. */
export const logLineSchema = z.strictObject({
  at_ms: epochMsSchema,
  level: z.enum(['debug', 'info', 'warn', 'error']),
  message: z.string(),
});

/** `POST /v1/tasks/{id}/logs`: a numbered batch, stored once per (task, attempt, seq). */
export const logsRequestSchema = z.strictObject({
  epoch: epochSchema,
  seq: z.number().int().min(1),
  lines: z.array(logLineSchema).min(1).max(1000),
});

export type LogsRequest = z.infer<typeof logsRequestSchema>;

export const logsResponseSchema = z.strictObject({
  /** This batch was stored before; nothing changed. */
  duplicate: z.boolean(),
});
