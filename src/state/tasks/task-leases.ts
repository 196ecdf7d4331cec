import type { StateStore } from '../state-store.js';
import { internalsOf } from '../store-internals.js';
import { finish, requeue } from './complete-task.js';
import { type LeaseCall, requireHeldTask } from './task-holder.js';
import { ATTEMPTS_TABLE, attemptIdOf, type Db, skipDownstream, TASKS_TABLE } from './task-rows.js';
import { notifyInTransaction, signalInProcess } from './task-signals.js';

/**
 * What the holder of a lease can do besides completing: renew it with a heartbeat, which also
 * tells it whether its task was cancelled, and give the task back without spending an attempt.
 */

/** The answer to a heartbeat. */
export type HeartbeatAnswer = {
  readonly leaseExpiresAtMs: number;
  /** The task's run was cancelled: stop the task, and complete it as failed. */
  readonly isCancelRequested: boolean;
};

/**
 * Extends the caller's lease by `leaseMs` from now: one statement that renews the lease only if
 * the caller holds it at its epoch. When it renews nothing, a transaction finds out why, for the
 * refusal (the task is gone, 409 or 403), or renews the lease if it was held after all.
 */
export async function heartbeatTask(
  store: StateStore,
  call: LeaseCall,
  leaseMs: number,
): Promise<HeartbeatAnswer> {
  const leaseExpiresAtMs = call.nowMs + leaseMs;
  const renewed = await store.db
    .updateTable(TASKS_TABLE)
    .set({ lease_expires_at_ms: leaseExpiresAtMs })
    .where('id', '=', call.taskId)
    .where('status', '=', 'leased')
    .where('owner', '=', call.owner)
    .where('epoch', '=', call.epoch)
    .returning('is_cancel_requested')
    .executeTakeFirst();
  if (renewed !== undefined) {
    return { leaseExpiresAtMs, isCancelRequested: Number(renewed.is_cancel_requested) === 1 };
  }

  return internalsOf(store).writeTransaction(async (db) => {
    const task = await requireHeldTask(store, db, call);
    await renewLease(db, call, leaseExpiresAtMs);
    return { leaseExpiresAtMs, isCancelRequested: task.isCancelRequested };
  });
}

async function renewLease(db: Db, call: LeaseCall, leaseExpiresAtMs: number): Promise<void> {
  await db
    .updateTable(TASKS_TABLE)
    .set({ lease_expires_at_ms: leaseExpiresAtMs })
    .where('id', '=', call.taskId)
    .where('epoch', '=', call.epoch)
    .execute();
}

/**
 * Gives the task back: it is ready again at once and the claim does not count as an attempt
 * (the epoch stays raised, so the old lease stays fenced off). A task whose run was cancelled
 * ends as cancelled instead.
 */
export async function releaseTask(store: StateStore, call: LeaseCall): Promise<void> {
  const pool = await internalsOf(store).writeTransaction(async (db) => {
    const task = await requireHeldTask(store, db, call);
    await endAttempt(db, call, 'released');
    if (task.isCancelRequested) {
      await finish(db, task.id, 'cancelled', call.nowMs);
      await skipDownstream(db, [task.id], call.nowMs);
    } else {
      await requeue(db, task.id, call.nowMs, { isAttemptReturned: true });
    }
    await notifyInTransaction(store, db, [task.pool]);
    return task.pool;
  });
  signalInProcess(store, [pool]);
}

/** Marks the attempt of a claim as ended, and how. */
export async function endAttempt(
  db: Db,
  call: Pick<LeaseCall, 'taskId' | 'epoch' | 'nowMs'>,
  endedAs: 'released' | 'expired',
): Promise<void> {
  await db
    .updateTable(ATTEMPTS_TABLE)
    .set({ ended_at_ms: call.nowMs, ended_as: endedAs })
    .where('id', '=', attemptIdOf(call.taskId, call.epoch))
    .execute();
}
