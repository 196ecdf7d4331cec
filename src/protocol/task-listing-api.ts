import { z } from 'zod';
import { taskPoolSchema } from './tasks-api.js';

/**
 * Reading tasks (readers of state): the tasks of a run in the order it queued them, a page at a
 * time, and one task with the outcome its last completed attempt reported. What a task does
 * (kind, model, interval) comes from its definition; the definition itself is never answered.
 */

/** Where a task is in the queue; every status after `leased` is final. */
export const TASK_STATUSES = [
  'blocked',
  'ready',
  'leased',
  'succeeded',
  'failed',
  'skipped',
  'cancelled',
] as const;

export type TaskStatusName = (typeof TASK_STATUSES)[number];

/** The most tasks one page may hold. */
export const MAX_TASK_PAGE = 500;

export const runTasksQuerySchema = z.strictObject({
  status: z.enum(TASK_STATUSES).optional(),
  limit: z.coerce.number().int().min(1).max(MAX_TASK_PAGE).default(100),
  /** The `next` of the previous page: only tasks queued after that one. */
  after: z.string().min(1).max(200).optional(),
});

const epochMsSchema = z.number().int();

/** A task as listed. */
export const listedTaskSchema = z.strictObject({
  id: z.string(),
  run_id: z.string(),
  pool: taskPoolSchema,
  /** `create`, `evaluate`, `audit`, `promote` or `cleanup`. */
  kind: z.string(),
  model_name: z.string().nullable(),
  status: z.enum(TASK_STATUSES),
  /** Claims so far; a released claim gives its attempt back. */
  attempt: z.number().int(),
  max_attempts: z.number().int(),
  /** The interval an evaluate or audit task covers, half-open; null for other tasks. */
  interval: z.strictObject({ start_ms: epochMsSchema, end_ms: epochMsSchema }).nullable(),
  created_at_ms: epochMsSchema,
  finished_at_ms: epochMsSchema.nullable(),
  /** When the task is (or was) claimable: after its upstream tasks, or after a backoff. */
  ready_at_ms: epochMsSchema,
});

export type ListedTaskInfo = z.infer<typeof listedTaskSchema>;

export const runTasksResponseSchema = z.strictObject({
  tasks: z.array(listedTaskSchema),
  /** Pass as `after` for the next page; null when this page is the last. */
  next: z.string().nullable(),
});

export type RunTasksInfo = z.infer<typeof runTasksResponseSchema>;

/** What the last completed attempt of a task reported. */
export const taskOutcomeSummarySchema = z.strictObject({
  status: z.enum(['succeeded', 'failed']),
  duration_ms: z.number().int(),
  /** Rows the attempt wrote; null for a failed attempt. */
  rows_written: z.number().int().nullable(),
  error: z.strictObject({ code: z.string(), message: z.string() }).nullable(),
  /** The engine's ids of the attempt's work, for its logs (PostgreSQL: `pid/xid`). */
  engine_query_ids: z.array(z.string()),
});

export type TaskOutcomeSummaryInfo = z.infer<typeof taskOutcomeSummarySchema>;

export const taskDetailSchema = listedTaskSchema.extend({
  /** Null before any attempt completed. */
  last_outcome: taskOutcomeSummarySchema.nullable(),
});

export type TaskDetailInfo = z.infer<typeof taskDetailSchema>;

export const taskResponseSchema = z.strictObject({ task: taskDetailSchema });
