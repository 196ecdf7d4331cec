import { SluiceError } from '../../core/errors.js';
import type { TimeRange } from '../../core/intervals/range-set.js';
import type { TaskPool } from '../../core/task-pool.js';
import type { StateStore } from '../state-store.js';
import { internalsOf } from '../store-internals.js';
import {
  type Db,
  DEPENDENCIES_TABLE,
  definitionAddress,
  distinctPools,
  releaseUnblocked,
  skipDownstream,
  TASKS_TABLE,
} from './task-rows.js';
import { notifyInTransaction, signalInProcess } from './task-signals.js';

/**
 * Puts tasks into the queue, with the tasks each waits for. A task whose upstream tasks have all
 * succeeded (or that has none) is ready at once; one with an upstream task that failed, was
 * skipped or was cancelled is skipped; any other waits, blocked, until its upstream tasks finish.
 */

/**
 * A task to queue, with what the queue needs to order, cap and retry it. The definition is what
 * the Executor gets (a protocol task); the queue stores it encrypted and never reads it.
 */
export type NewQueuedTask = {
  readonly id: string;
  readonly runId: string;
  readonly pool: TaskPool;
  readonly definition: unknown;
  /** The gateway whose engine the task runs on, for the per-gateway concurrency cap. */
  readonly gateway: string;
  /** The model the task works on, for the per-model concurrency cap; none for promotions. */
  readonly modelName?: string;
  /** The version the task builds or checks, for pricing; none for promotions and cleanups. */
  readonly versionId?: string;
  /**
   * The range of `versionId` the task's success completes: recorded as processed in the
   * completion's own transaction, so that it stays recorded whatever becomes of the run.
   */
  readonly recordsRange?: TimeRange;
  readonly environment?: string;
  /** Lower is served first: prod's tasks before development environments'. */
  readonly priority: number;
  /** How many claims a task may have in all before a retryable failure is final. */
  readonly maxAttempts: number;
  /** Tasks, queued before or in the same call, that must succeed before this one is ready. */
  readonly dependsOn?: readonly string[];
};

/** Rows per insert statement, well inside both backends' limits on bound parameters. */
const INSERT_CHUNK = 200;

/** Queues `tasks` in one transaction and wakes the claims of the pools that gained work. */
export async function enqueueTasks(
  store: StateStore,
  tasks: readonly NewQueuedTask[],
  nowMs: number,
): Promise<void> {
  if (tasks.length === 0) return;
  checkInputs(tasks);

  const readyPools = await internalsOf(store).writeTransaction(async (db) => {
    await insertTasks(store, db, tasks, nowMs);
    const withUpstream = tasks.filter((queued) => (queued.dependsOn ?? []).length > 0);
    await insertDependencies(db, withUpstream);
    await checkUpstreamExists(db, withUpstream);

    const deadUpstream = await upstreamThatCannotSucceed(db, withUpstream);
    await skipDownstream(db, deadUpstream, nowMs);
    const released = await releaseUnblocked(
      db,
      withUpstream.map((queued) => queued.id),
      nowMs,
    );
    const pools = distinctPools([
      ...tasks.filter((queued) => (queued.dependsOn ?? []).length === 0).map(poolOf),
      ...released,
    ]);
    await notifyInTransaction(store, db, pools);
    return pools;
  });
  signalInProcess(store, readyPools);
}

function poolOf(queued: NewQueuedTask): TaskPool {
  return queued.pool;
}

function checkInputs(tasks: readonly NewQueuedTask[]): void {
  for (const queued of tasks) {
    if (!Number.isSafeInteger(queued.maxAttempts) || queued.maxAttempts < 1) {
      throw new SluiceError(
        'internal',
        `Task '${queued.id}' must allow at least one attempt, not ${queued.maxAttempts}`,
      );
    }
    if ((queued.dependsOn ?? []).includes(queued.id)) {
      throw new SluiceError('internal', `Task '${queued.id}' cannot depend on itself`);
    }
  }
}

async function insertTasks(
  store: StateStore,
  db: Db,
  tasks: readonly NewQueuedTask[],
  nowMs: number,
): Promise<void> {
  const rows = tasks.map((queued) => ({
    id: queued.id,
    run_id: queued.runId,
    pool: queued.pool,
    priority: queued.priority,
    environment: queued.environment ?? null,
    gateway: queued.gateway,
    model_name: queued.modelName ?? null,
    version_id: queued.versionId ?? null,
    record_start_ms: queued.recordsRange?.[0] ?? null,
    record_end_ms: queued.recordsRange?.[1] ?? null,
    status: (queued.dependsOn ?? []).length === 0 ? 'ready' : 'blocked',
    attempt: 0,
    max_attempts: queued.maxAttempts,
    epoch: 0,
    owner: null,
    executor_id: null,
    lease_expires_at_ms: null,
    ready_at_ms: nowMs,
    is_cancel_requested: 0,
    created_at_ms: nowMs,
    finished_at_ms: null,
    definition: store.cipher.encrypt(
      JSON.stringify(queued.definition),
      definitionAddress(queued.id),
    ),
  }));
  for (let start = 0; start < rows.length; start += INSERT_CHUNK) {
    await db
      .insertInto(TASKS_TABLE)
      .values(rows.slice(start, start + INSERT_CHUNK))
      .execute();
  }
}

async function insertDependencies(db: Db, tasks: readonly NewQueuedTask[]): Promise<void> {
  const rows = tasks.flatMap((queued) =>
    [...new Set(queued.dependsOn)].map((upstreamId) => ({
      task_id: queued.id,
      upstream_id: upstreamId,
    })),
  );
  for (let start = 0; start < rows.length; start += INSERT_CHUNK) {
    await db
      .insertInto(DEPENDENCIES_TABLE)
      .values(rows.slice(start, start + INSERT_CHUNK))
      .execute();
  }
}

/** Refuses a dependency on a task that is neither queued nor in this call. */
async function checkUpstreamExists(db: Db, tasks: readonly NewQueuedTask[]): Promise<void> {
  const wanted = [...new Set(tasks.flatMap((queued) => queued.dependsOn ?? []))];
  for (let start = 0; start < wanted.length; start += INSERT_CHUNK) {
    const chunk = wanted.slice(start, start + INSERT_CHUNK);
    const found = await db.selectFrom(TASKS_TABLE).select('id').where('id', 'in', chunk).execute();
    const known = new Set(found.map((row) => String(row.id)));
    const missing = chunk.find((id) => !known.has(id));
    if (missing !== undefined) {
      throw new SluiceError(
        'internal',
        `A queued task depends on task '${missing}', which is not in the queue; ` +
          'queue upstream tasks first or in the same call',
      );
    }
  }
}

/** The upstream tasks of `tasks` that failed, were skipped or were cancelled. */
async function upstreamThatCannotSucceed(
  db: Db,
  tasks: readonly NewQueuedTask[],
): Promise<string[]> {
  const upstream = [...new Set(tasks.flatMap((queued) => queued.dependsOn ?? []))];
  const dead: string[] = [];
  for (let start = 0; start < upstream.length; start += INSERT_CHUNK) {
    const rows = await db
      .selectFrom(TASKS_TABLE)
      .select('id')
      .where('id', 'in', upstream.slice(start, start + INSERT_CHUNK))
      .where('status', 'in', ['failed', 'skipped', 'cancelled'])
      .execute();
    dead.push(...rows.map((row) => String(row.id)));
  }
  return dead;
}
