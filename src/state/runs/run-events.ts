import type { StateStore } from '../state-store.js';
import type { PayloadAddress } from '../state-types.js';

/**
 * A run's progress as a numbered list of events (tasks started and finished, models finished,
 * warnings), so that whoever follows the run, from any Scheduler replica, reads the same story
 * in the same order. Events are encrypted: they carry model errors.
 */

const EVENTS_TABLE = 'sluice_run_events';

/** Rows per insert statement, well inside both backends' limits on bound parameters. */
const INSERT_CHUNK = 200;

/** One recorded event. */
export type StoredRunEvent = { readonly seq: number; readonly event: unknown };

/** Appends `events`, numbered from `firstSeq` on. */
export async function appendRunEvents(
  store: StateStore,
  runId: string,
  firstSeq: number,
  events: readonly unknown[],
  nowMs: number,
): Promise<void> {
  const rows = events.map((event, index) => {
    const id = `${runId}/${firstSeq + index}`;
    return {
      id,
      run_id: runId,
      seq: firstSeq + index,
      created_at_ms: nowMs,
      event: store.cipher.encrypt(JSON.stringify(event), eventAddress(id)),
    };
  });
  for (let start = 0; start < rows.length; start += INSERT_CHUNK) {
    await store.db
      .insertInto(EVENTS_TABLE)
      .values(rows.slice(start, start + INSERT_CHUNK))
      .execute();
  }
}

/** The events after `afterSeq`, oldest first, at most `limit`. */
export async function readRunEvents(
  store: StateStore,
  runId: string,
  afterSeq: number,
  limit: number,
): Promise<StoredRunEvent[]> {
  const rows = await store.db
    .selectFrom(EVENTS_TABLE)
    .select(['id', 'seq', 'event'])
    .where('run_id', '=', runId)
    .where('seq', '>', afterSeq)
    .orderBy('seq')
    .limit(limit)
    .execute();
  const payloads = rows.map((row) => ({
    ciphertext: row.event as Buffer,
    address: eventAddress(String(row.id)),
  }));
  const texts = store.cipher.decryptAll(payloads);
  return rows.map((row, index) => ({
    seq: Number(row.seq),
    event: JSON.parse(String(texts[index])),
  }));
}

function eventAddress(id: string): PayloadAddress {
  return { table: EVENTS_TABLE, column: 'event', rowId: id };
}
