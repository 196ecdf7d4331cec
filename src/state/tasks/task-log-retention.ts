import { SluiceError } from '../../core/errors.js';
import type { StateStore } from '../state-store.js';
import { internalsOf } from '../store-internals.js';
import { LOGS_TABLE } from './task-rows.js';

/**
 * Log retention: batches the Scheduler received before a cutoff are deleted, a bounded number per
 * transaction, so that pruning a large backlog never holds the write lock (SQLite) or a long
 * transaction (PostgreSQL) for long; claims and completions get their turn between batches.
 */

/** How many log batches one delete removes unless told otherwise. */
export const DEFAULT_PRUNE_BATCH_ROWS = 1_000;

/** Options of a prune. */
export type PruneOptions = {
  /** Log batches (rows, each up to 1,000 lines) deleted per transaction; default 1,000. */
  readonly batchRows?: number;
};

/** Deletes the log batches received before `beforeMs`; returns how many were deleted. */
export async function pruneTaskLogs(
  store: StateStore,
  beforeMs: number,
  options: PruneOptions = {},
): Promise<number> {
  const batchRows = options.batchRows ?? DEFAULT_PRUNE_BATCH_ROWS;
  checkArguments(beforeMs, batchRows);

  let removed = 0;
  for (;;) {
    const deleted = await deleteOldest(store, beforeMs, batchRows);
    removed += deleted;
    if (deleted < batchRows) return removed;
  }
}

/** One bounded delete, in its own transaction: the oldest `batchRows` rows before the cutoff. */
async function deleteOldest(store: StateStore, beforeMs: number, batchRows: number) {
  return internalsOf(store).writeTransaction(async (db) => {
    const oldest = db
      .selectFrom(LOGS_TABLE)
      .select('id')
      .where('received_at_ms', '<', beforeMs)
      .orderBy('received_at_ms')
      .limit(batchRows);
    const result = await db.deleteFrom(LOGS_TABLE).where('id', 'in', oldest).executeTakeFirst();
    return Number(result.numDeletedRows);
  });
}

function checkArguments(beforeMs: number, batchRows: number): void {
  if (!Number.isSafeInteger(beforeMs)) {
    throw new SluiceError('internal', `The log cutoff must be epoch milliseconds, not ${beforeMs}`);
  }
  if (!Number.isSafeInteger(batchRows) || batchRows < 1) {
    throw new SluiceError(
      'internal',
      `Log pruning deletes at least one row at a time; batchRows was ${batchRows}`,
    );
  }
}
