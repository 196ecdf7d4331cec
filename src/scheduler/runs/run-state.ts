import { SluiceError } from '../../core/errors.js';
import type { IntervalSettings } from '../../core/intervals/model-intervals.js';
import { mergeRanges, type TimeRange } from '../../core/intervals/range-set.js';
import { versionIdOf } from '../../core/snapshot.js';
import type { Task, TaskError, TaskOutcome } from '../../protocol/task.js';
import type { LeaseHolder } from '../../state/leases.js';
import type { DueWork } from './due-work.js';
import type { RunNode } from './run-graph.js';
import type { HeldLease } from './version-lease.js';

/** What a run reports: each model's state while it runs, and its result at the end. */

/** How a model ended in a run. */
export type ModelOutcome = 'succeeded' | 'failed' | 'skipped' | 'up_to_date';

/** One model's part of a run. */
export type ModelResult = {
  readonly modelName: string;
  readonly outcome: ModelOutcome;
  readonly tasks: number;
  readonly rowsWritten: number;
  /** The intervals evaluated in this run, merged. */
  readonly evaluated: readonly TimeRange[];
  readonly error: TaskError | undefined;
  /** For a skipped model, the upstream model whose failure skipped it. */
  readonly skippedBecause: string | undefined;
  /** What non-blocking audits found. */
  readonly warnings: readonly string[];
};

/** What a run reports while it goes. */
export type RunEvent =
  | { readonly type: 'model_waiting'; readonly modelName: string; readonly holder: LeaseHolder }
  | { readonly type: 'task_started'; readonly task: Task }
  | { readonly type: 'task_finished'; readonly task: Task; readonly outcome: TaskOutcome }
  | { readonly type: 'audit_warning'; readonly modelName: string; readonly message: string }
  | { readonly type: 'model_finished'; readonly result: ModelResult };

/** The state of one model while a run goes. */
export type NodeState = {
  readonly node: RunNode;
  readonly versionId: string;
  status: 'waiting' | 'active' | ModelOutcome;
  settings: IntervalSettings | undefined;
  missing: readonly TimeRange[];
  lease: HeldLease | undefined;
  tasks: number;
  rowsWritten: number;
  evaluated: TimeRange[];
  error: TaskError | undefined;
  skippedBecause: string | undefined;
  warnings: string[];
  /** The audits of the last write still running; its range is recorded when they pass. */
  awaiting: AwaitedAudits | undefined;
};

/** The audits of a model's last write that have not reported yet. */
export type AwaitedAudits = {
  readonly range: TimeRange | undefined;
  left: number;
  failure: TaskError | undefined;
};

/** Why a model ended when its run was cancelled. */
export const CANCELLED: TaskError = {
  code: 'query_cancelled',
  message: 'The run was cancelled before this model finished',
  isRetryable: false,
};

/** The lease expired unrenewed (the state store was unreachable) and another run took it. */
export function lostLeaseError(versionId: string): TaskError {
  return {
    code: 'state_error',
    message:
      `Stopped evaluating version '${versionId}': its lease expired while the state store could ` +
      'not be reached, and another run took it over; that run carries on with what is missing',
    isRetryable: true,
  };
}

/** A model's state before its run reaches it. */
export function newNodeState(node: RunNode): NodeState {
  return {
    node,
    versionId: versionIdOf(node.snapshot),
    status: 'waiting',
    settings: undefined,
    missing: [],
    lease: undefined,
    tasks: 0,
    rowsWritten: 0,
    evaluated: [],
    error: undefined,
    skippedBecause: undefined,
    warnings: [],
    awaiting: undefined,
  };
}

/** Whether a version has nothing to create and nothing to evaluate. */
export function isIdle(work: DueWork): boolean {
  return !work.needsCreate && work.missing.length === 0;
}

/** Whether a model's part of the run is over. */
export function isTerminal(state: NodeState): boolean {
  return state.status !== 'waiting' && state.status !== 'active';
}

/** A model's result as the run reports it. */
export function resultOf(state: NodeState): ModelResult {
  return {
    modelName: state.node.snapshot.name,
    outcome: isTerminal(state) ? (state.status as ModelOutcome) : 'skipped',
    tasks: state.tasks,
    rowsWritten: state.rowsWritten,
    evaluated: mergeRanges(state.evaluated),
    error: state.error,
    skippedBecause: state.skippedBecause,
    warnings: state.warnings,
  };
}

/** Any error as a task error: Sluice's keep their code and retry flag. */
export function taskErrorOf(error: unknown): TaskError {
  if (error instanceof SluiceError) {
    return { code: error.code, message: error.message, isRetryable: error.retryable };
  }
  if (error instanceof Error && error.name === 'AbortError') return CANCELLED;
  const message = error instanceof Error ? error.message : String(error);
  return { code: 'internal', message, isRetryable: false };
}
