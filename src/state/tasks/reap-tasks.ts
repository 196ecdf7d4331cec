import { type BackoffPolicy, backoffDelayMs } from '../../core/backoff.js';
import type { TaskPool } from '../../core/task-pool.js';
import type { StateStore } from '../state-store.js';
import { internalsOf } from '../store-internals.js';
import { finish, requeue } from './complete-task.js';
import { endAttempt } from './task-leases.js';
import { distinctPools, isPostgres, skipDownstream, TASKS_TABLE } from './task-rows.js';
import { notifyInTransaction, signalInProcess } from './task-signals.js';

/**
 * What happens to leases nobody renews: the reaper returns an expired lease's task to the queue
 * (an expired lease counts as a retryable failure of its attempt) until its attempts are spent,
 * then fails it and skips what depends on it. After a Scheduler restart, every lease is extended
 * to at least restart time plus one lease length, so Executors that kept working while the
 * Scheduler was away do not lose their tasks before they could heartbeat again.
 */

/** What one pass of the reaper did. */
export type ReapResult = { readonly requeued: number; readonly failed: number };

/** Reaps at most this many leases per pass; the next pass takes the rest. */
const REAP_BATCH = 500;

/** Returns the tasks whose leases expired before `nowMs` to the queue, or fails them. */
export async function reapExpiredLeases(
  store: StateStore,
  nowMs: number,
  retry: BackoffPolicy,
  random: () => number = Math.random,
): Promise<ReapResult> {
  const result = await internalsOf(store).writeTransaction(async (db) => {
    const query = db
      .selectFrom(TASKS_TABLE)
      .select(['id', 'pool', 'attempt', 'max_attempts', 'epoch', 'is_cancel_requested'])
      .where('status', '=', 'leased')
      .where('lease_expires_at_ms', '<', nowMs)
      .orderBy('lease_expires_at_ms')
      .limit(REAP_BATCH);
    const expired = await (isPostgres(store) ? query.forUpdate().skipLocked() : query).execute();

    let requeued = 0;
    const ended: string[] = [];
    const pools: TaskPool[] = [];
    for (const row of expired) {
      const taskId = String(row.id);
      const attempt = Number(row.attempt);
      pools.push(String(row.pool) as TaskPool);
      await endAttempt(db, { taskId, epoch: Number(row.epoch), nowMs }, 'expired');
      if (Number(row.is_cancel_requested) === 1) {
        await finish(db, taskId, 'cancelled', nowMs);
        ended.push(taskId);
      } else if (attempt < Number(row.max_attempts)) {
        await requeue(db, taskId, nowMs + backoffDelayMs(attempt, retry, random));
        requeued += 1;
      } else {
        await finish(db, taskId, 'failed', nowMs);
        ended.push(taskId);
      }
    }
    await skipDownstream(db, ended, nowMs);
    await notifyInTransaction(store, db, distinctPools(pools));
    return { requeued, failed: ended.length, pools: distinctPools(pools) };
  });
  signalInProcess(store, result.pools);
  return { requeued: result.requeued, failed: result.failed };
}

/**
 * Extends every live lease to expire no sooner than `nowMs + leaseMs`; called when a Scheduler
 * starts. Returns how many leases were extended.
 */
export async function extendLeasesAfterRestart(
  store: StateStore,
  nowMs: number,
  leaseMs: number,
): Promise<number> {
  const result = await store.db
    .updateTable(TASKS_TABLE)
    .set({ lease_expires_at_ms: nowMs + leaseMs })
    .where('status', '=', 'leased')
    .where('lease_expires_at_ms', '<', nowMs + leaseMs)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/**
 * Cancels what is left of a run: tasks not yet claimed end as cancelled at once (and whatever
 * depends on them is skipped), and leased ones are flagged so their Executors learn it at their
 * next heartbeat. Returns how many changed.
 */
export async function cancelRunTasks(
  store: StateStore,
  runId: string,
  nowMs: number,
): Promise<{ readonly cancelled: number; readonly flagged: number }> {
  return internalsOf(store).writeTransaction(async (db) => {
    const cancelled = await db
      .updateTable(TASKS_TABLE)
      .set({ status: 'cancelled', finished_at_ms: nowMs })
      .where('run_id', '=', runId)
      .where('status', 'in', ['blocked', 'ready'])
      .returning('id')
      .execute();
    await skipDownstream(
      db,
      cancelled.map((row) => String(row.id)),
      nowMs,
    );
    const flagged = await db
      .updateTable(TASKS_TABLE)
      .set({ is_cancel_requested: 1 })
      .where('run_id', '=', runId)
      .where('status', '=', 'leased')
      .executeTakeFirst();
    return {
      cancelled: cancelled.length,
      flagged: Number(flagged.numUpdatedRows),
    };
  });
}
