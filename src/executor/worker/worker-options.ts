import type { BackoffPolicy } from '../../core/backoff.js';
import type { Logger } from '../../core/logger.js';
import type { TaskPool } from '../../core/task-pool.js';
import type { Task, TaskOutcome } from '../../protocol/task.js';
import type { SchedulerConnection } from '../protocol/scheduler-connection.js';

/**
 * What the worker loop is given: the connection to the Scheduler, what it offers (pools, slots)
 * and the function that runs one task. The worker knows no engine: the caller's task function
 * does.
 */

/** A log line's level, as the protocol carries it. */
export type TaskLogLevel = 'debug' | 'info' | 'warn' | 'error';

/** What a running task is handed besides its definition. */
export type TaskContext = {
  /** Aborts when the run is cancelled, the lease is lost, or the worker stops past its grace. */
  readonly signal: AbortSignal;
  /** Adds a line to the task's log, sent to the Scheduler in numbered batches. */
  readonly log: (level: TaskLogLevel, message: string) => void;
  /** The attempt this is, from 1. */
  readonly attempt: number;
};

/** What the engine said the attempt used, beyond the rows in the outcome. */
export type TaskUsage = {
  readonly bytesScanned?: number;
  readonly engineQueryIds?: readonly string[];
};

/** A task runner's outcome, with the engine's usage when it says. */
export type WorkerTaskOutcome = TaskOutcome & { readonly usage?: TaskUsage };

/** Runs one task; should report failures as outcomes (a throw becomes a failed outcome). */
export type TaskFunction = (task: Task, context: TaskContext) => Promise<WorkerTaskOutcome>;

/** The calls of the protocol the worker makes. */
export type WorkerConnection = Pick<
  SchedulerConnection,
  'hello' | 'claim' | 'heartbeat' | 'sendLogs' | 'complete' | 'release'
>;

/** What the caller gives to start a worker. */
export type WorkerOptions = {
  readonly connection: WorkerConnection;
  /** This Executor's id, unique per Executor process. */
  readonly executorId: string;
  /** What the Executor says it is, such as `sluice/0.1.0`. */
  readonly agent: string;
  readonly pools: readonly TaskPool[];
  /** How many tasks may run at once. */
  readonly slots: number;
  readonly runTask: TaskFunction;
  readonly logger: Logger;
  /** How long a claim waits for a task; default the hello's poll wait. */
  readonly claimWaitSec?: number;
  /** How often buffered log lines are sent; default 1000. */
  readonly logFlushMs?: number;
  /** After aborting a task at stop, how long to wait for it before releasing; default 5000. */
  readonly abortWaitMs?: number;
  /** How long a release at stop may take before the lease is left to expire; default 10000. */
  readonly releaseTimeoutMs?: number;
  /** Spacing of new claims after a claim was refused; default 1 s to 60 s. */
  readonly claimBackoff?: BackoffPolicy;
};

/** The options with every default applied. */
export type WorkerSettings = Required<Omit<WorkerOptions, 'claimWaitSec'>> & {
  readonly claimWaitSec: number | undefined;
};

/** Applies the defaults. */
export function resolveWorkerSettings(options: WorkerOptions): WorkerSettings {
  return Object.freeze({
    ...options,
    claimWaitSec: options.claimWaitSec,
    logFlushMs: options.logFlushMs ?? 1000,
    abortWaitMs: options.abortWaitMs ?? 5000,
    releaseTimeoutMs: options.releaseTimeoutMs ?? 10_000,
    claimBackoff: options.claimBackoff ?? { baseDelayMs: 1000, maxDelayMs: 60_000 },
  });
}
