import type { TaskPool } from '../../core/task-pool.js';
import type { StateStore } from '../state-store.js';
import { taskNotFound } from './task-holder.js';
import {
  ATTEMPTS_TABLE,
  completionAddress,
  type QueuedTaskStatus,
  TASKS_TABLE,
} from './task-rows.js';

/** Reading the queue: one task's state and outcome, depth per pool, the next backoff's end. */

/** A queued task's state, and the report of its last completed attempt. */
export type TaskRecord = {
  readonly id: string;
  readonly runId: string;
  readonly pool: TaskPool;
  readonly status: QueuedTaskStatus;
  readonly attempt: number;
  readonly maxAttempts: number;
  readonly epoch: number;
  readonly owner: string | null;
  readonly executorId: string | null;
  readonly leaseExpiresAtMs: number | null;
  readonly readyAtMs: number;
  readonly isCancelRequested: boolean;
  /** The report the last completion carried, as given; undefined before any completion. */
  readonly lastReport: unknown;
};

/** The task with this id; `task_not_found` when there is none. */
export async function readTaskRecord(store: StateStore, taskId: string): Promise<TaskRecord> {
  const row = await store.db
    .selectFrom(TASKS_TABLE)
    .selectAll()
    .where('id', '=', taskId)
    .executeTakeFirst();
  if (row === undefined) throw taskNotFound(taskId);
  const completed = await store.db
    .selectFrom(ATTEMPTS_TABLE)
    .select(['id', 'completion'])
    .where('task_id', '=', taskId)
    .where('ended_as', '=', 'completed')
    .orderBy('epoch', 'desc')
    .executeTakeFirst();

  return {
    id: String(row.id),
    runId: String(row.run_id),
    pool: String(row.pool) as TaskPool,
    status: String(row.status) as QueuedTaskStatus,
    attempt: Number(row.attempt),
    maxAttempts: Number(row.max_attempts),
    epoch: Number(row.epoch),
    owner: row.owner === null ? null : String(row.owner),
    executorId: row.executor_id === null ? null : String(row.executor_id),
    leaseExpiresAtMs: row.lease_expires_at_ms === null ? null : Number(row.lease_expires_at_ms),
    readyAtMs: Number(row.ready_at_ms),
    isCancelRequested: Number(row.is_cancel_requested) === 1,
    lastReport: completed === undefined ? undefined : reportOf(store, completed),
  };
}

function reportOf(store: StateStore, row: { id: unknown; completion: unknown }): unknown {
  const address = completionAddress(String(row.id));
  const text = store.cipher.decryptText(row.completion as Buffer, address);
  return (JSON.parse(text) as { report: unknown }).report;
}

/** How many tasks are ready (claimable now or after a backoff) per pool. */
export async function readyTaskCounts(store: StateStore): Promise<Record<TaskPool, number>> {
  const rows = await store.db
    .selectFrom(TASKS_TABLE)
    .select((select) => ['pool', select.fn.countAll().as('ready')])
    .where('status', '=', 'ready')
    .groupBy('pool')
    .execute();
  const counts: Record<TaskPool, number> = { apply: 0, run: 0 };
  for (const row of rows) counts[String(row.pool) as TaskPool] = Number(row.ready);
  return counts;
}

/** When the next task of `pools` waiting out a backoff becomes claimable; undefined if none. */
export async function nextReadyAtMs(
  store: StateStore,
  pools: readonly TaskPool[],
  nowMs: number,
): Promise<number | undefined> {
  const row = await store.db
    .selectFrom(TASKS_TABLE)
    .select((select) => select.fn.min('ready_at_ms').as('next'))
    .where('status', '=', 'ready')
    .where('pool', 'in', [...pools])
    .where('ready_at_ms', '>', nowMs)
    .executeTakeFirst();
  return row?.next === null || row?.next === undefined ? undefined : Number(row.next);
}

/** How many tasks are ready, blocked and leased, per pool. */
export type PoolDepth = {
  readonly ready: number;
  readonly blocked: number;
  readonly leased: number;
};

/** The queue's depth per pool: tasks ready, blocked and leased. */
export async function queueDepths(store: StateStore): Promise<Record<TaskPool, PoolDepth>> {
  const rows = await store.db
    .selectFrom(TASKS_TABLE)
    .select((select) => ['pool', 'status', select.fn.countAll().as('count')])
    .where('status', 'in', ['ready', 'blocked', 'leased'])
    .groupBy(['pool', 'status'])
    .execute();
  const empty = () => ({ ready: 0, blocked: 0, leased: 0 });
  const depths: Record<TaskPool, { ready: number; blocked: number; leased: number }> = {
    apply: empty(),
    run: empty(),
  };
  for (const row of rows) {
    const status = String(row.status) as keyof PoolDepth;
    depths[String(row.pool) as TaskPool][status] = Number(row.count);
  }
  return depths;
}
