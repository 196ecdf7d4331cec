import type { Kysely } from 'kysely';
import { mergeRanges, subtractRanges, type TimeRange } from '../core/intervals/range-set.js';
import type { StateDatabase, StateStore } from './state-store.js';
import { internalsOf } from './store-internals.js';

/**
 * The intervals each version has processed, stored as merged ranges: one row per contiguous run
 * of processed time, so the rows grow with the gaps, never with the number of intervals or runs.
 */

const INTERVALS_TABLE = 'sluice_intervals';
const VERSIONS_TABLE = 'sluice_versions';

/** How many version ids go into one `IN (...)` list. */
const IDS_PER_QUERY = 500;

/** The processed ranges of each version, merged and sorted; a version with none maps to []. */
export async function readProcessedRanges(
  store: StateStore,
  versionIds: readonly string[],
): Promise<Map<string, TimeRange[]>> {
  const ranges = new Map<string, TimeRange[]>(versionIds.map((id) => [id, []]));
  for (let offset = 0; offset < versionIds.length; offset += IDS_PER_QUERY) {
    const ids = versionIds.slice(offset, offset + IDS_PER_QUERY);
    const rows = await store.db
      .selectFrom(INTERVALS_TABLE)
      .select(['version_id', 'start_ms', 'end_ms'])
      .where('version_id', 'in', ids)
      .orderBy('version_id')
      .orderBy('start_ms')
      .execute();
    for (const row of rows) {
      ranges.get(String(row.version_id))?.push([Number(row.start_ms), Number(row.end_ms)]);
    }
  }
  return ranges;
}

/**
 * Records that a version has processed `added`, merging it with what is stored, in one write
 * transaction. On PostgreSQL the version's row is locked first, so two writers of one version
 * merge one after the other instead of losing each other's ranges; SQLite's write transaction
 * already excludes other writers.
 */
export async function addProcessedRanges(
  store: StateStore,
  versionId: string,
  added: readonly TimeRange[],
): Promise<void> {
  if (added.length === 0) return;
  await internalsOf(store).writeTransaction((db) =>
    addProcessedRangesIn(db, store, versionId, added),
  );
}

/** `addProcessedRanges` inside a write transaction the caller holds. */
export async function addProcessedRangesIn(
  db: Kysely<StateDatabase>,
  store: StateStore,
  versionId: string,
  added: readonly TimeRange[],
): Promise<void> {
  if (added.length === 0) return;
  await lockVersion(db, store, versionId);
  const stored = await storedRanges(db, versionId);
  const merged = mergeRanges([...stored, ...added]);
  await replaceChanged(db, versionId, stored, merged);
}

/** Forgets every processed range of a version, so that its intervals count as missing again. */
export async function clearProcessedRanges(store: StateStore, versionId: string): Promise<void> {
  await store.db.deleteFrom(INTERVALS_TABLE).where('version_id', '=', versionId).execute();
}

async function lockVersion(
  db: Kysely<StateDatabase>,
  store: StateStore,
  versionId: string,
): Promise<void> {
  if (store.backend !== 'postgres') return;
  await db
    .selectFrom(VERSIONS_TABLE)
    .select('id')
    .where('id', '=', versionId)
    .forUpdate()
    .execute();
}

async function storedRanges(db: Kysely<StateDatabase>, versionId: string): Promise<TimeRange[]> {
  const rows = await db
    .selectFrom(INTERVALS_TABLE)
    .select(['start_ms', 'end_ms'])
    .where('version_id', '=', versionId)
    .orderBy('start_ms')
    .execute();
  return rows.map((row): TimeRange => [Number(row.start_ms), Number(row.end_ms)]);
}

/** Deletes the stored rows that merging changed and inserts their replacements. */
async function replaceChanged(
  db: Kysely<StateDatabase>,
  versionId: string,
  stored: readonly TimeRange[],
  merged: readonly TimeRange[],
): Promise<void> {
  const key = ([start, end]: TimeRange) => `${start}:${end}`;
  const keep = new Set(merged.map(key));
  const existing = new Set(stored.map(key));
  const removed = stored.filter((range) => !keep.has(key(range)));
  const inserted = merged.filter((range) => !existing.has(key(range)));

  for (const [start] of removed) {
    await db
      .deleteFrom(INTERVALS_TABLE)
      .where('version_id', '=', versionId)
      .where('start_ms', '=', start)
      .execute();
  }
  if (inserted.length === 0) return;
  await db
    .insertInto(INTERVALS_TABLE)
    .values(
      inserted.map(([start, end]) => ({ version_id: versionId, start_ms: start, end_ms: end })),
    )
    .execute();
}

/**
 * Removes ranges from what a version has processed, so they count as missing again (a
 * restatement), in one write transaction like `addProcessedRanges`.
 */
export async function removeProcessedRanges(
  store: StateStore,
  versionId: string,
  removed: readonly TimeRange[],
): Promise<void> {
  if (removed.length === 0) return;
  await internalsOf(store).writeTransaction(async (db) => {
    await lockVersion(db, store, versionId);
    const stored = await storedRanges(db, versionId);
    const remaining = subtractRanges(stored, removed);
    await replaceChanged(db, versionId, stored, remaining);
  });
}
