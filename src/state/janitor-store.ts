import type { StateStore } from './state-store.js';
import { internalsOf } from './store-internals.js';

/**
 * What the janitor reads and writes in the state store: the versions whose physical table
 * exists, when each was first found unused (`unused_since`), a dropped table's version made
 * unbuilt again, and an expired environment's row removed.
 */

const VERSIONS_TABLE = 'sluice_versions';
const SNAPSHOTS_TABLE = 'sluice_snapshots';
const INTERVALS_TABLE = 'sluice_intervals';
const ENVIRONMENTS_TABLE = 'sluice_environments';
const IDS_PER_QUERY = 500;

/** A version whose physical table (or view) exists. */
export type BuiltVersion = {
  readonly id: string;
  readonly modelName: string;
  readonly version: string;
  readonly table: { readonly schema: string; readonly name: string };
  readonly tableCreatedAt: string;
  /** When the janitor first found no live environment using it; undefined while it is used. */
  readonly unusedSince: string | undefined;
};

/** Every version whose physical table was created and not dropped since, by id. */
export async function readBuiltVersions(store: StateStore): Promise<BuiltVersion[]> {
  const rows = await store.db
    .selectFrom(VERSIONS_TABLE)
    .select([
      'id',
      'model_name',
      'version',
      'physical_schema',
      'physical_name',
      'table_created_at',
      'unused_since',
    ])
    .where('table_created_at', 'is not', null)
    .where('physical_name', 'is not', null)
    .orderBy('id')
    .execute();
  return rows.map((row) => ({
    id: String(row.id),
    modelName: String(row.model_name),
    version: String(row.version),
    table: { schema: String(row.physical_schema ?? ''), name: String(row.physical_name) },
    tableCreatedAt: String(row.table_created_at),
    unusedSince: row.unused_since === null ? undefined : String(row.unused_since),
  }));
}

/** The version id of each stored snapshot among `snapshotIds`, by snapshot id. */
export async function readVersionIdsOfSnapshots(
  store: StateStore,
  snapshotIds: readonly string[],
): Promise<Map<string, string>> {
  const versionIds = new Map<string, string>();
  for (const chunk of chunks(snapshotIds)) {
    const rows = await store.db
      .selectFrom(SNAPSHOTS_TABLE)
      .select(['id', 'version_id'])
      .where('id', 'in', chunk)
      .execute();
    for (const row of rows) versionIds.set(String(row.id), String(row.version_id));
  }
  return versionIds;
}

/** One snapshot id of each version among `versionIds`, by version id. */
export async function readSnapshotIdsOfVersions(
  store: StateStore,
  versionIds: readonly string[],
): Promise<Map<string, string>> {
  const snapshotIds = new Map<string, string>();
  for (const chunk of chunks(versionIds)) {
    const rows = await store.db
      .selectFrom(SNAPSHOTS_TABLE)
      .select(['id', 'version_id'])
      .where('version_id', 'in', chunk)
      .orderBy('id')
      .execute();
    for (const row of rows) {
      if (!snapshotIds.has(String(row.version_id))) {
        snapshotIds.set(String(row.version_id), String(row.id));
      }
    }
  }
  return snapshotIds;
}

/** Marks versions unused since `now`, leaving a mark already set as it is. */
export async function markVersionsUnused(
  store: StateStore,
  versionIds: readonly string[],
  now: Date,
): Promise<void> {
  for (const chunk of chunks(versionIds)) {
    await store.db
      .updateTable(VERSIONS_TABLE)
      .set({ unused_since: now.toISOString() })
      .where('id', 'in', chunk)
      .where('unused_since', 'is', null)
      .execute();
  }
}

/** Clears the unused mark of versions that a live environment uses again. */
export async function clearVersionsUnused(
  store: StateStore,
  versionIds: readonly string[],
): Promise<void> {
  for (const chunk of chunks(versionIds)) {
    await store.db
      .updateTable(VERSIONS_TABLE)
      .set({ unused_since: null })
      .where('id', 'in', chunk)
      .where('unused_since', 'is not', null)
      .execute();
  }
}

/**
 * Records that a version's table was dropped: it counts as not built, and its processed
 * intervals are forgotten, so a plan that needs the version again creates and backfills it.
 */
export async function recordTableDropped(store: StateStore, versionId: string): Promise<void> {
  await internalsOf(store).writeTransaction(async (db) => {
    await db.deleteFrom(INTERVALS_TABLE).where('version_id', '=', versionId).execute();
    await db
      .updateTable(VERSIONS_TABLE)
      .set({ table_created_at: null, unused_since: null })
      .where('id', '=', versionId)
      .execute();
  });
}

/**
 * Removes an environment's row if it is still at `revision`, so its name can be planned again
 * from scratch; returns whether it was removed (a promotion since leaves it in place).
 */
export async function deleteEnvironment(
  store: StateStore,
  name: string,
  revision: number,
): Promise<boolean> {
  const result = await store.db
    .deleteFrom(ENVIRONMENTS_TABLE)
    .where('name', '=', name)
    .where('revision', '=', revision)
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

function chunks<T>(items: readonly T[]): T[][] {
  const result: T[][] = [];
  for (let offset = 0; offset < items.length; offset += IDS_PER_QUERY) {
    result.push(items.slice(offset, offset + IDS_PER_QUERY));
  }
  return result;
}
