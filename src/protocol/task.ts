import type { AuditSpec } from '../core/audit.js';
import type { Model } from '../core/model.js';
import type { TableName } from '../core/table-resolver.js';
import type { TaskPool } from '../core/task-pool.js';

/**
 * Tasks as the Scheduler hands them to an Executor: definitions and intervals, never rendered
 * SQL and never anything that names an engine or a credential. The Executor renders each task's
 * SQL from the model definitions it carries.
 */

/** The kinds of task this release knows. */
export type TaskKind = 'create' | 'evaluate' | 'audit' | 'promote' | 'cleanup';

export type { TaskPool } from '../core/task-pool.js';

/** A half-open interval `[startMs, endMs)`, epoch milliseconds, UTC. */
export type TaskInterval = { readonly startMs: number; readonly endMs: number };

/** What rendering a model needs, carried with each task. */
export type ModelTaskContext = {
  readonly projectName: string;
  /** The gateway the model runs on, for `@gateway`. */
  readonly gateway: string;
  readonly variables: Readonly<Record<string, unknown>>;
  /** The task's model first, then its direct dependencies and the embedded models they inline. */
  readonly models: readonly Model[];
  /** Where model names point: the physical tables of the model and of its dependencies. */
  readonly tables: Readonly<Record<string, TableName>>;
};

/** One unit of work on one version of one model. */
export type ModelTask = {
  readonly id: string;
  readonly runId: string;
  readonly kind: 'create' | 'evaluate' | 'audit';
  readonly pool: TaskPool;
  readonly modelName: string;
  readonly snapshotId: string;
  readonly versionId: string;
  /** The intervals an `evaluate` task covers; a `create` task has none. */
  readonly interval: TaskInterval | undefined;
  readonly executionTimeMs: number;
  readonly context: ModelTaskContext;
  /**
   * A forward-only version reuses an existing table: its create task adds the columns the query
   * gained with ALTER TABLE instead of leaving the table as it is.
   */
  readonly isForwardOnly?: boolean;
  /** For an `audit` task: which audit to run over the task's interval. */
  readonly audit?: AuditSpec;
};

/**
 * An audit as a task carries it: the model's reference (name and arguments) and, for a SQL audit
 * from the project's audits/ folder, its definition; the Executor renders the SQL. The shape is
 * the snapshot's own (src/core/audit.ts).
 */
export type { AuditDefinitionPayload, AuditSpec } from '../core/audit.js';

/** What an audit found: how many rows failed and a few of them. */
export type AuditFindings = {
  readonly failedRows: number;
  readonly sampleRows: readonly Readonly<Record<string, unknown>>[];
};

/** One object a cleanup drops: a physical table or view, or an environment's view. */
export type DropTarget = { readonly table: TableName; readonly isView: boolean };

/** Drops what no environment uses any more: expired environments' views, unused tables. */
export type CleanupTask = {
  readonly id: string;
  readonly runId: string;
  readonly kind: 'cleanup';
  readonly pool: TaskPool;
  readonly executionTimeMs: number;
  readonly drops: readonly DropTarget[];
};

/** One view of an environment's virtual layer and the physical table it selects from. */
export type ViewTarget = { readonly view: TableName; readonly table: TableName };

/** Points an environment's views at its versions' tables, in one transaction where possible. */
export type PromoteTask = {
  readonly id: string;
  readonly runId: string;
  readonly kind: 'promote';
  readonly pool: TaskPool;
  readonly environment: string;
  readonly executionTimeMs: number;
  /** The views to create or replace. */
  readonly views: readonly ViewTarget[];
  /** The views of models the environment no longer has. */
  readonly dropViews: readonly TableName[];
};

/** Any task. */
export type Task = ModelTask | PromoteTask | CleanupTask;

/** An error as it crosses the protocol: code, message with nothing secret, and whether to retry. */
export type TaskError = {
  readonly code: string;
  readonly message: string;
  readonly isRetryable: boolean;
};

/** How a task ended. */
export type TaskOutcome =
  | {
      readonly status: 'succeeded';
      readonly rowsWritten: number;
      readonly durationMs: number;
      /** What an audit task found; a blocking audit with failed rows is a failed outcome. */
      readonly audit?: AuditFindings;
    }
  | {
      readonly status: 'failed';
      readonly error: TaskError;
      readonly durationMs: number;
      readonly audit?: AuditFindings;
    };

/**
 * Where an Executor pulls work from and reports it done: the Scheduler's queue, in process or
 * over HTTP.
 */
export type TaskSource = {
  /**
   * Waits until at least one task is ready or the signal aborts, then returns up to `maxTasks`;
   * an empty array means the source has no more work (or the signal aborted).
   */
  claim(maxTasks: number, signal: AbortSignal): Promise<readonly Task[]>;
  /** Reports the outcome of a claimed task. */
  complete(taskId: string, outcome: TaskOutcome): Promise<void>;
};
