import { SluiceError } from '../../core/errors.js';
import type { TimeRange } from '../../core/intervals/range-set.js';
import type { StateStore } from '../state-store.js';
import {
  ATTEMPTS_TABLE,
  type Db,
  isPostgres,
  type QueuedTaskStatus,
  TASKS_TABLE,
} from './task-rows.js';

/**
 * The fencing check every call on a claimed task goes through: the caller must be the client the
 * task is leased to, at the lease's epoch. A caller that held an earlier epoch of the task has
 * lost its lease (409, `lease_lost`); one that never held the task may not touch it (403,
 * `lease_not_held`).
 */

/** A call on a claimed task: who makes it, at which epoch, and when. */
export type LeaseCall = {
  readonly taskId: string;
  /** The token's subject: the client the Executor authenticated as. */
  readonly owner: string;
  readonly epoch: number;
  readonly nowMs: number;
};

/** The task row as the lease calls read it. */
export type HeldTask = {
  readonly id: string;
  readonly pool: 'apply' | 'run';
  readonly status: QueuedTaskStatus;
  readonly attempt: number;
  readonly maxAttempts: number;
  readonly epoch: number;
  readonly isCancelRequested: boolean;
  /** The range of its version the task's success records as processed, if any. */
  readonly recordsOnSuccess?: { readonly versionId: string; readonly range: TimeRange };
};

/** The range a task records on success, from its row's columns; nothing when it records none. */
function recordsOnSuccessOf(row: {
  readonly version_id: unknown;
  readonly record_start_ms: unknown;
  readonly record_end_ms: unknown;
}): Pick<HeldTask, 'recordsOnSuccess'> {
  const { version_id, record_start_ms, record_end_ms } = row;
  if (version_id == null || record_start_ms == null || record_end_ms == null) return {};
  const range: TimeRange = [Number(record_start_ms), Number(record_end_ms)];
  return { recordsOnSuccess: { versionId: String(version_id), range } };
}

/**
 * Reads the task for a call and checks that the caller holds it at the given epoch; on
 * PostgreSQL the row stays locked until the transaction ends.
 */
export async function requireHeldTask(
  store: StateStore,
  db: Db,
  call: LeaseCall,
): Promise<HeldTask> {
  const query = db
    .selectFrom(TASKS_TABLE)
    .select([
      'id',
      'pool',
      'status',
      'attempt',
      'max_attempts',
      'epoch',
      'owner',
      'is_cancel_requested',
      'version_id',
      'record_start_ms',
      'record_end_ms',
    ])
    .where('id', '=', call.taskId);
  const row = await (isPostgres(store) ? query.forUpdate() : query).executeTakeFirst();
  if (row === undefined) throw taskNotFound(call.taskId);

  const task: HeldTask = {
    id: String(row.id),
    pool: String(row.pool) as HeldTask['pool'],
    status: String(row.status) as QueuedTaskStatus,
    attempt: Number(row.attempt),
    maxAttempts: Number(row.max_attempts),
    epoch: Number(row.epoch),
    isCancelRequested: Number(row.is_cancel_requested) === 1,
    ...recordsOnSuccessOf(row),
  };
  const isHolder =
    task.status === 'leased' && row.owner === call.owner && task.epoch === call.epoch;
  if (isHolder) return task;
  throw await refusal(db, call);
}

/** 409 for a caller that held the task at some epoch, 403 for one that never did. */
export async function refusal(db: Db, call: LeaseCall): Promise<SluiceError> {
  const held = await db
    .selectFrom(ATTEMPTS_TABLE)
    .select('epoch')
    .where('task_id', '=', call.taskId)
    .where('owner', '=', call.owner)
    .executeTakeFirst();
  if (held === undefined) {
    return new SluiceError(
      'lease_not_held',
      `Client '${call.owner}' never held task '${call.taskId}'; only the Executor that claimed ` +
        'a task may report on it',
    );
  }
  return new SluiceError(
    'lease_lost',
    `The lease on task '${call.taskId}' at epoch ${call.epoch} is no longer held: it expired, ` +
      'was released or the task finished; stop the task and discard its output',
  );
}

export function taskNotFound(taskId: string): SluiceError {
  return new SluiceError('task_not_found', `No task '${taskId}' is queued`);
}
