import { wholeUnits } from '../../core/intervals/interval-unit.js';
import { completePart } from '../../core/intervals/model-intervals.js';
import { intersectRanges, subtractRanges, type TimeRange } from '../../core/intervals/range-set.js';
import type { Logger } from '../../core/logger.js';
import { upkeepOf } from '../../core/snapshot.js';
import { describeAuditFindings } from '../../protocol/audit-findings.js';
import type {
  AuditSpec,
  ModelTask,
  Task,
  TaskError,
  TaskOutcome,
  TaskPool,
  TaskSource,
} from '../../protocol/task.js';
import { hitFailpoint } from '../../state/failpoint.js';
import { markTableCreated, readVersions } from '../../state/snapshot-store.js';
import type { StateStore } from '../../state/state-store.js';
import { addProcessedRanges, readProcessedRanges } from '../../state/version-intervals.js';
import { type DueWork, dueWorkOf, nextBatchOf } from './due-work.js';
import type { RunNode } from './run-graph.js';
import {
  CANCELLED,
  isIdle,
  isTerminal,
  lostLeaseError,
  type ModelOutcome,
  type ModelResult,
  type NodeState,
  newNodeState,
  type RunEvent,
  resultOf,
  taskErrorOf,
} from './run-state.js';
import type { TaskQueue } from './task-queue.js';
import { acquireLease, type LeaseSettings, versionLeaseKey } from './version-lease.js';

/**
 * Drives one run: walks the run graph in dependency order, and for each model takes the lease on
 * its version, works out what is due from the state store, and pushes its tasks to the queue one
 * batch at a time, so backfill tasks are created as the work advances rather than all up front.
 * Completed intervals are recorded only after their task succeeded, so a run killed midway loses
 * nothing it recorded and records nothing it did not write. A failed model skips its downstream
 * models and nothing else.
 */

export type { ModelOutcome, ModelResult, RunEvent } from './run-state.js';

export type RunOptions = {
  readonly runId: string;
  readonly pool: TaskPool;
  /** The run's clock: what is due at this instant runs, with it as every task's execution time. */
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

type PendingTask = {
  readonly task: Task;
  readonly state: NodeState;
  readonly range?: TimeRange;
  /** Whether the queue records the range when the task succeeds (TaskQueue.recordsOnSuccess). */
  readonly isRecordedByQueue?: boolean;
};

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

    const { state, task } = pending;
    try {
      if (task.kind === 'audit') return await this.#completeAudit(pending, outcome);
      if (outcome.status === 'failed') return await this.#finish(state, 'failed', outcome.error);
      state.rowsWritten += outcome.rowsWritten;
      if (task.kind === 'create') await markTableCreated(this.store, state.versionId);
      if (this.#pushAudits(pending)) return;
      await this.#recordRange(state, pending.range, pending.isRecordedByQueue === true);
      this.#pushNext(state);
    } catch (error) {
      await this.#finish(state, 'failed', taskErrorOf(error));
    }
  }

  /**
   * Pushes the model's audits over what the task just wrote: after each evaluated batch, and
   * after the create task of a view or seed, which builds it. Returns whether any were pushed.
   */
  #pushAudits(pending: PendingTask): boolean {
    const { state, task } = pending;
    const audits = state.node.snapshot.audits;
    const isBuilt = task.kind === 'evaluate' || upkeepOf(state.node.snapshot.model.kind) === 'once';
    if (audits.length === 0 || !isBuilt) return false;

    state.awaiting = { range: pending.range, left: audits.length, failure: undefined };
    for (const audit of audits) this.#push(state, 'audit', pending.range, audit);
    return true;
  }

  /**
   * Counts an audit in. A blocking failure fails the model once all its audits are in, and its
   * range is not recorded, so the next run evaluates it again; a non-blocking one warns.
   */
  async #completeAudit(pending: PendingTask, outcome: TaskOutcome): Promise<void> {
    const { state, task } = pending;
    const awaiting = state.awaiting;
    if (awaiting === undefined) return;
    awaiting.left -= 1;
    if (outcome.status === 'failed') {
      awaiting.failure ??= outcome.error;
    } else if (
      outcome.audit !== undefined &&
      outcome.audit.failedRows > 0 &&
      task.kind === 'audit'
    ) {
      const message = `${describeAuditFindings(task, outcome.audit)} (non-blocking)`;
      state.warnings.push(message);
      this.#emit({ type: 'audit_warning', modelName: state.node.snapshot.name, message });
    }
    if (awaiting.left > 0) return;

    state.awaiting = undefined;
    if (awaiting.failure !== undefined) return this.#finish(state, 'failed', awaiting.failure);
    await this.#recordRange(state, awaiting.range);
    this.#pushNext(state);
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
    const unit = due.settings?.unit;
    const missing = shouldSkipBackfill
      ? []
      : limitRange === undefined || unit === undefined
        ? due.missing
        : intersectRanges(due.missing, [wholeUnits(limitRange, unit)]);
    const isForwardOnly = forwardOnlyIds?.has(state.node.snapshot.id) === true;
    return { ...due, missing, needsCreate: due.needsCreate || isForwardOnly };
  }

  /**
   * Records the complete part of an evaluated range as processed, unless the queue recorded it
   * already with the task's completion, and takes it off the missing.
   */
  async #recordRange(
    state: NodeState,
    range: TimeRange | undefined,
    isRecorded = false,
  ): Promise<void> {
    if (range === undefined || state.settings === undefined) return;
    const complete = completePart(state.settings, range, this.options.nowMs);
    const count = ++this.#evaluatedCount;
    hitFailpoint(`run-before-record:${count}`);
    if (complete !== undefined && !isRecorded) {
      await addProcessedRanges(this.store, state.versionId, [complete]);
    }
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

  #push(state: NodeState, kind: ModelTask['kind'], range?: TimeRange, audit?: AuditSpec): void {
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
      ...(audit === undefined ? {} : { audit }),
    };
    state.tasks += 1;
    const recordOnSuccess = this.#recordOnSuccess(state, kind, range);
    const isRecordedByQueue = recordOnSuccess !== undefined && this.queue.recordsOnSuccess;
    this.#pending.set(task.id, {
      task,
      state,
      ...(range === undefined ? {} : { range }),
      isRecordedByQueue,
    });
    this.queue.push(task, recordOnSuccess);
  }

  /**
   * What an evaluate task's success completes for its version, when nothing else must pass
   * first: a model with audits is recorded only once its audits pass, by this coordinator.
   */
  #recordOnSuccess(
    state: NodeState,
    kind: ModelTask['kind'],
    range: TimeRange | undefined,
  ): TimeRange | undefined {
    if (kind !== 'evaluate' || range === undefined || state.settings === undefined)
      return undefined;
    if (state.node.snapshot.audits.length > 0) return undefined;
    return completePart(state.settings, range, this.options.nowMs);
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
