import type { StateStore } from '../state-store.js';
import { internalsOf } from '../store-internals.js';
import { type LeaseCall, refusal, requireHeldTask, taskNotFound } from './task-holder.js';
import { ATTEMPTS_TABLE, attemptIdOf, LOGS_TABLE, logAddress, TASKS_TABLE } from './task-rows.js';

/**
 * Log batches from Executors, stored encrypted per task, claim (its epoch) and sequence number,
 * with the attempt they belong to. A batch sent again (the Executor did not see the answer) is
 * stored once: the second call is answered as a duplicate, even after the task finished. A new
 * batch needs the current lease. Batches are told apart by epoch rather than attempt because a
 * released claim gives its attempt number back: the next claim of the task has the same attempt
 * and starts its sequence numbers again.
 */

/** One log line as the Executor sends it. */
export type TaskLogLine = {
  readonly atMs: number;
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly message: string;
};

/** A numbered batch of log lines for one attempt of a task. */
export type LogBatch = LeaseCall & {
  readonly seq: number;
  readonly lines: readonly TaskLogLine[];
};

/** Stores a batch; `isDuplicate` when this batch was stored before. */
export async function appendTaskLogs(
  store: StateStore,
  batch: LogBatch,
): Promise<{ readonly isDuplicate: boolean }> {
  return internalsOf(store).writeTransaction(async (db) => {
    const attempt = await db
      .selectFrom(ATTEMPTS_TABLE)
      .select(['attempt', 'owner'])
      .where('id', '=', attemptIdOf(batch.taskId, batch.epoch))
      .executeTakeFirst();
    if (attempt === undefined || attempt.owner !== batch.owner) {
      const task = await db.selectFrom(TASKS_TABLE).select('id').where('id', '=', batch.taskId);
      if ((await task.executeTakeFirst()) === undefined) throw taskNotFound(batch.taskId);
      throw await refusal(db, batch);
    }

    const id = `${batch.taskId}/${batch.epoch}/${batch.seq}`;
    const stored = await db.selectFrom(LOGS_TABLE).select('id').where('id', '=', id);
    if ((await stored.executeTakeFirst()) !== undefined) return { isDuplicate: true };

    await requireHeldTask(store, db, batch);
    await db
      .insertInto(LOGS_TABLE)
      .values({
        id,
        task_id: batch.taskId,
        attempt: Number(attempt.attempt),
        epoch: batch.epoch,
        seq: batch.seq,
        line_count: batch.lines.length,
        received_at_ms: batch.nowMs,
        lines: store.cipher.encrypt(JSON.stringify(batch.lines), logAddress(id)),
      })
      .execute();
    return { isDuplicate: false };
  });
}

/** The log lines of one attempt of a task: claim by claim, each in sequence order. */
export async function readTaskLogs(
  store: StateStore,
  taskId: string,
  attempt: number,
): Promise<TaskLogLine[]> {
  const rows = await store.db
    .selectFrom(LOGS_TABLE)
    .select(['id', 'lines'])
    .where('task_id', '=', taskId)
    .where('attempt', '=', attempt)
    .orderBy('epoch')
    .orderBy('seq')
    .execute();
  return rows.flatMap((row) => {
    const text = store.cipher.decryptText(row.lines as Buffer, logAddress(String(row.id)));
    return JSON.parse(text) as TaskLogLine[];
  });
}
