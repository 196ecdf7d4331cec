import { SluiceError } from '../../core/errors.js';
import type { IntervalSettings } from '../../core/intervals/model-intervals.js';
import { completePart } from '../../core/intervals/model-intervals.js';
import {
  intersectRanges,
  mergeRanges,
  subtractRanges,
  type TimeRange,
} from '../../core/intervals/range-set.js';
import type { Logger } from '../../core/logger.js';
import { versionIdOf } from '../../core/snapshot.js';
import type {
  ModelTask,
  Task,
  TaskError,
  TaskOutcome,
  TaskPool,
  TaskSource,
} from '../../protocol/task.js';
import { hitFailpoint } from '../../state/failpoint.js';
import type { LeaseHolder } from '../../state/leases.js';
import { markTableCreated, readVersions } from '../../state/snapshot-store.js';
import type { StateStore } from '../../state/state-store.js';
import { addProcessedRanges, readProcessedRanges } from '../../state/version-intervals.js';
import { type DueWork, dueWorkOf, nextBatchOf } from './due-work.js';
import type { RunNode } from './run-graph.js';
import type { TaskQueue } from './task-queue.js';
import {
  acquireLease,
  type HeldLease,
  type LeaseSettings,
  versionLeaseKey,
} from './version-lease.js';

/**
 * Drives one run: walks the run graph in dependency order, and for each model takes the lease on
 * its version, works out what is due from the state store, and pushes its tasks to the queue one
 * batch at a time, so backfill tasks are created as the work advances rather than all up front.
 * Completed intervals are recorded only after their task succeeded, so a run killed midway loses
 * nothing it recorded and records nothing it did not write. A failed model skips its downstream
 * models and nothing else.
 */

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
};

/** What a run reports while it goes. */
export type RunEvent =
  | { readonly type: 'model_waiting'; readonly modelName: string; readonly holder: LeaseHolder }
  | { readonly type: 'task_started'; readonly task: Task }
  | { readonly type: 'task_finished'; readonly task: Task; readonly outcome: TaskOutcome }
  | { readonly type: 'model_finished'; readonly result: ModelResult };

export type RunOptions = {
  readonly runId: string;
  readonly pool: TaskPool;
  /** The run's clock: what is due is computed at this instant, and it is every task's execution time. */
  readonly nowMs: number;
  readonly lease: LeaseSettings;
  readonly logger: Logger;
  readonly signal: AbortSignal;
  readonly onEvent?: (event: RunEvent) => void;
  /** Evaluates only intervals inside this range (a limited backfill of a development plan). */
  readonly limitRange?: TimeRange;
  /** Creates tables but evaluates nothing (a plan applied with --skip-backfill). */
  readonly shouldSkipBackfill?: boolean;
  /**
   * Snapshots of forward-only changes: their existing tables get the columns the query gained,
   * through a create task that runs even though the version's table exists.
   */
  readonly forwardOnlyIds?: ReadonlySet<string>;
};

type NodeState = {
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
};

type PendingTask = { readonly task: Task; readonly state: NodeState; readonly range?: TimeRange };

/** A run in progress; it is also the task source its in-process Executor pulls from. */
export class RunCoordinator implements TaskSource {
  readonly #states = new Map<string, NodeState>();
  readonly #pending = new Map<string, PendingTask>();
  readonly #finished: Promise<readonly ModelResult[]>;
  #resolveFinished: (results: readonly ModelResult[]) => void = () => {};
  readonly #claimed = new Set<string>();
  #taskCount = 0;
  #evaluatedCount = 0;

  constructor(
    private readonly store: StateStore,
    private readonly queue: TaskQueue,
    graph: ReadonlyMap<string, RunNode>,
    private readonly options: RunOptions,
  ) {
    for (const [name, node] of graph) this.#states.set(name, newNodeState(node));
    this.#finished = new Promise((resolve) => {
      this.#resolveFinished = resolve;
    });
  }

  /** Starts the models that have no parents in the run; resolves with every model's result. */
  run(): Promise<readonly ModelResult[]> {
    this.options.signal.addEventListener('abort', () => this.#cancel(), { once: true });
    for (const state of this.#states.values()) {
      if (state.node.parents.length === 0) void this.#activate(state);
    }
    this.#closeIfDone();
    return this.#finished;
  }

  async claim(maxTasks: number, signal: AbortSignal): Promise<readonly Task[]> {
    const tasks = await this.queue.claim(maxTasks, signal);
    for (const task of tasks) {
      this.#claimed.add(task.id);
      this.#emit({ type: 'task_started', task });
    }
    return tasks;
  }

  async complete(taskId: string, outcome: TaskOutcome): Promise<void> {
    const pending = this.#pending.get(taskId);
    if (pending === undefined) return;
    this.#pending.delete(taskId);
    this.#claimed.delete(taskId);
    this.#emit({ type: 'task_finished', task: pending.task, outcome });

    const { state } = pending;
    if (outcome.status === 'failed') return this.#finish(state, 'failed', outcome.error);
    state.rowsWritten += outcome.rowsWritten;
    try {
      await this.#recordSuccess(pending);
      this.#pushNext(state);
    } catch (error) {
      await this.#finish(state, 'failed', taskErrorOf(error));
    }
  }

  async #activate(state: NodeState): Promise<void> {
    state.status = 'active';
    try {
      if (isIdle(await this.#dueWork(state))) return await this.#finish(state, 'up_to_date');
      state.lease = await acquireLease(
        this.store,
        versionLeaseKey(state.versionId),
        this.options.lease,
        {
          signal: this.options.signal,
          logger: this.options.logger,
          onWait: (holder) =>
            this.#emit({ type: 'model_waiting', modelName: state.node.snapshot.name, holder }),
        },
      );

      // Read again under the lease: another process may have done the work while we waited.
      const work = await this.#dueWork(state);
      if (isIdle(work)) return await this.#finish(state, 'up_to_date');
      state.settings = work.settings;
      state.missing = work.missing;
      if (work.needsCreate) this.#push(state, 'create');
      else this.#pushNext(state);
    } catch (error) {
      await this.#finish(state, 'failed', taskErrorOf(error));
    }
  }

  async #dueWork(state: NodeState): Promise<DueWork> {
    const { versionId } = state;
    const versions = await readVersions(this.store, [versionId]);
    const processed = await readProcessedRanges(this.store, [versionId]);
    const progress = {
      isTableCreated: versions.get(versionId)?.tableCreatedAt !== undefined,
      processed: processed.get(versionId) ?? [],
    };
    const due = dueWorkOf(state.node.snapshot, progress, this.options.nowMs);
    const { limitRange, shouldSkipBackfill, forwardOnlyIds } = this.options;
    const missing = shouldSkipBackfill
      ? []
      : limitRange === undefined
        ? due.missing
        : intersectRanges(due.missing, [limitRange]);
    const isForwardOnly = forwardOnlyIds?.has(state.node.snapshot.id) === true;
    return { ...due, missing, needsCreate: due.needsCreate || isForwardOnly };
  }

  async #recordSuccess(pending: PendingTask): Promise<void> {
    const { state, range } = pending;
    if (pending.task.kind === 'create') {
      await markTableCreated(this.store, state.versionId);
      return;
    }
    if (range === undefined || state.settings === undefined) return;
    const complete = completePart(state.settings, range, this.options.nowMs);
    const count = ++this.#evaluatedCount;
    hitFailpoint(`run-before-record:${count}`);
    if (complete !== undefined) await addProcessedRanges(this.store, state.versionId, [complete]);
    hitFailpoint(`run-after-record:${count}`);
    state.evaluated.push(range);
    state.missing = subtractRanges(state.missing, [range]);
  }

  /** Pushes the next batch of a model, or finishes it when nothing is left. */
  #pushNext(state: NodeState): void {
    if (this.options.signal.aborted) {
      void this.#finish(state, 'failed', CANCELLED);
      return;
    }
    if (state.lease?.isLost === true) {
      void this.#finish(state, 'failed', lostLeaseError(state.versionId));
      return;
    }
    const batch =
      state.settings === undefined
        ? undefined
        : nextBatchOf(state.node.snapshot, state.settings, state.missing);
    if (batch === undefined) {
      void this.#finish(state, 'succeeded');
      return;
    }
    this.#push(state, 'evaluate', batch);
  }

  #push(state: NodeState, kind: ModelTask['kind'], range?: TimeRange): void {
    const { snapshot, context } = state.node;
    const task: ModelTask = {
      id: `${this.options.runId}-${++this.#taskCount}`,
      runId: this.options.runId,
      kind,
      pool: this.options.pool,
      modelName: snapshot.name,
      snapshotId: snapshot.id,
      versionId: state.versionId,
      interval: range === undefined ? undefined : { startMs: range[0], endMs: range[1] },
      executionTimeMs: this.options.nowMs,
      context,
      ...(kind === 'create' && this.options.forwardOnlyIds?.has(snapshot.id)
        ? { isForwardOnly: true }
        : {}),
    };
    state.tasks += 1;
    this.#pending.set(task.id, { task, state, ...(range === undefined ? {} : { range }) });
    this.queue.push(task);
  }

  async #finish(state: NodeState, outcome: ModelOutcome, error?: TaskError): Promise<void> {
    if (isTerminal(state)) return;
    state.status = outcome;
    state.error = error;
    await state.lease?.release().catch((releaseError: unknown) => {
      this.options.logger.warn(
        { err: releaseError, versionId: state.versionId },
        'lease release failed',
      );
    });
    state.lease = undefined;
    this.#emit({ type: 'model_finished', result: resultOf(state) });

    const name = state.node.snapshot.name;
    for (const childName of state.node.children) {
      const child = this.#states.get(childName);
      if (child === undefined || child.status !== 'waiting') continue;
      if (outcome === 'failed' || outcome === 'skipped')
        this.#skip(child, state.skippedBecause ?? name);
      else if (this.#areParentsDone(child)) void this.#activate(child);
    }
    this.#closeIfDone();
  }

  #skip(state: NodeState, because: string): void {
    if (state.status !== 'waiting') return;
    state.status = 'skipped';
    state.skippedBecause = because;
    this.#emit({ type: 'model_finished', result: resultOf(state) });
    for (const childName of state.node.children) {
      const child = this.#states.get(childName);
      if (child !== undefined) this.#skip(child, because);
    }
  }

  #areParentsDone(state: NodeState): boolean {
    return state.node.parents.every((parent) => {
      const status = this.#states.get(parent)?.status;
      return status === 'succeeded' || status === 'up_to_date';
    });
  }

  /**
   * On cancellation, models not started are skipped and tasks nobody claimed are dropped; a
   * claimed task ends through its Executor's signal and finishes its model then. A model still
   * waiting for its lease ends when the wait sees the signal.
   */
  #cancel(): void {
    for (const state of this.#states.values()) {
      if (state.status !== 'waiting') continue;
      state.status = 'skipped';
      state.skippedBecause = 'the run was cancelled';
    }
    for (const [taskId, pending] of [...this.#pending]) {
      if (this.#claimed.has(taskId)) continue;
      this.#pending.delete(taskId);
      void this.#finish(pending.state, 'failed', CANCELLED);
    }
    this.#closeIfDone();
  }

  #closeIfDone(): void {
    if (![...this.#states.values()].every(isTerminal)) return;
    this.queue.close();
    this.#resolveFinished([...this.#states.values()].map(resultOf));
  }

  #emit(event: RunEvent): void {
    this.options.onEvent?.(event);
  }
}

const CANCELLED: TaskError = {
  code: 'query_cancelled',
  message: 'The run was cancelled before this model finished',
  isRetryable: false,
};

/** The lease expired unrenewed (the state store was unreachable) and another run took it. */
function lostLeaseError(versionId: string): TaskError {
  return {
    code: 'state_error',
    message:
      `Stopped evaluating version '${versionId}': its lease expired while the state store could ` +
      'not be reached, and another run took it over; that run carries on with what is missing',
    isRetryable: true,
  };
}

function newNodeState(node: RunNode): NodeState {
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
  };
}

function isIdle(work: DueWork): boolean {
  return !work.needsCreate && work.missing.length === 0;
}

function isTerminal(state: NodeState): boolean {
  return state.status !== 'waiting' && state.status !== 'active';
}

function resultOf(state: NodeState): ModelResult {
  return {
    modelName: state.node.snapshot.name,
    outcome: isTerminal(state) ? (state.status as ModelOutcome) : 'skipped',
    tasks: state.tasks,
    rowsWritten: state.rowsWritten,
    evaluated: mergeRanges(state.evaluated),
    error: state.error,
    skippedBecause: state.skippedBecause,
  };
}

function taskErrorOf(error: unknown): TaskError {
  if (error instanceof SluiceError) {
    return { code: error.code, message: error.message, isRetryable: error.retryable };
  }
  if (error instanceof Error && error.name === 'AbortError') return CANCELLED;
  const message = error instanceof Error ? error.message : String(error);
  return { code: 'internal', message, isRetryable: false };
}
