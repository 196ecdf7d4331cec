import { SluiceError } from '../core/errors.js';
import { type Snapshot, versionIdOf } from '../core/snapshot.js';
import type { StateStore } from './state-store.js';
import type { PayloadAddress } from './state-types.js';
import { internalsOf } from './store-internals.js';

/**
 * Snapshots and versions in the state store. A version row stands for one physical table and is
 * shared by every snapshot of that version; a snapshot row holds its whole definition (model,
 * fingerprint, table), encrypted and bound to its id.
 */

const SNAPSHOTS_TABLE = 'sluice_snapshots';
const VERSIONS_TABLE = 'sluice_versions';
const IDS_PER_QUERY = 500;
const ROWS_PER_INSERT = 100;

/** What the store knows about a version besides its snapshots. */
export type VersionRecord = {
  readonly id: string;
  /** When its physical table was created; undefined while it has not been. */
  readonly tableCreatedAt: string | undefined;
};

/**
 * Records snapshots that the store does not hold yet, with their versions, in one transaction;
 * ones already stored are left as they are (a snapshot's id covers its whole definition).
 */
export async function saveSnapshots(
  store: StateStore,
  snapshots: readonly Snapshot[],
  now: Date = new Date(),
): Promise<void> {
  const createdAt = now.toISOString();
  await internalsOf(store).writeTransaction(async (db) => {
    const versionRows = uniqueBy(snapshots, versionIdOf).map((snapshot) => ({
      id: versionIdOf(snapshot),
      model_name: snapshot.name,
      version: snapshot.version,
      physical_schema: snapshot.table?.schema ?? null,
      physical_name: snapshot.table?.name ?? null,
      created_at: createdAt,
      table_created_at: null,
    }));
    for (const chunk of chunks(versionRows, ROWS_PER_INSERT)) {
      await db
        .insertInto(VERSIONS_TABLE)
        .values(chunk)
        .onConflict((conflict) => conflict.column('id').doNothing())
        .execute();
    }

    const snapshotRows = uniqueBy(snapshots, (snapshot) => snapshot.id).map((snapshot) => ({
      id: snapshot.id,
      version_id: versionIdOf(snapshot),
      data_hash: snapshot.fingerprint.dataHash,
      metadata_hash: snapshot.fingerprint.metadataHash,
      created_at: createdAt,
      definition: store.cipher.encrypt(JSON.stringify(snapshot), addressOf(snapshot.id)),
    }));
    for (const chunk of chunks(snapshotRows, ROWS_PER_INSERT)) {
      await db
        .insertInto(SNAPSHOTS_TABLE)
        .values(chunk)
        .onConflict((conflict) => conflict.column('id').doNothing())
        .execute();
    }
  });
}

/** The stored snapshots with these ids, decrypted; an unknown id is an error naming it. */
export async function readSnapshots(
  store: StateStore,
  ids: readonly string[],
): Promise<Map<string, Snapshot>> {
  const snapshots = await findSnapshots(store, ids);
  const missing = ids.find((id) => !snapshots.has(id));
  if (missing !== undefined) {
    throw new SluiceError('state_error', `The state store holds no snapshot '${missing}'`);
  }
  return snapshots;
}

/** The stored snapshots among these ids, decrypted; ids the store does not hold are left out. */
export async function findSnapshots(
  store: StateStore,
  ids: readonly string[],
): Promise<Map<string, Snapshot>> {
  const snapshots = new Map<string, Snapshot>();
  for (const chunk of chunks(ids, IDS_PER_QUERY)) {
    const rows = await store.db
      .selectFrom(SNAPSHOTS_TABLE)
      .select(['id', 'definition'])
      .where('id', 'in', chunk)
      .execute();
    for (const row of rows) {
      const id = String(row.id);
      const text = store.cipher.decryptText(row.definition as Buffer, addressOf(id));
      snapshots.set(id, JSON.parse(text) as Snapshot);
    }
  }
  return snapshots;
}

/** The stored versions with these ids; ids the store does not hold are left out. */
export async function readVersions(
  store: StateStore,
  ids: readonly string[],
): Promise<Map<string, VersionRecord>> {
  const versions = new Map<string, VersionRecord>();
  for (const chunk of chunks(ids, IDS_PER_QUERY)) {
    const rows = await store.db
      .selectFrom(VERSIONS_TABLE)
      .select(['id', 'table_created_at'])
      .where('id', 'in', chunk)
      .execute();
    for (const row of rows) {
      const createdAt = row.table_created_at;
      versions.set(String(row.id), {
        id: String(row.id),
        tableCreatedAt: createdAt === null ? undefined : String(createdAt),
      });
    }
  }
  return versions;
}

/** Records that a version's physical table exists (or, for a view or seed, was built). */
export async function markTableCreated(
  store: StateStore,
  versionId: string,
  now: Date = new Date(),
): Promise<void> {
  await store.db
    .updateTable(VERSIONS_TABLE)
    .set({ table_created_at: now.toISOString() })
    .where('id', '=', versionId)
    .where('table_created_at', 'is', null)
    .execute();
}

function addressOf(id: string): PayloadAddress {
  return { table: SNAPSHOTS_TABLE, column: 'definition', rowId: id };
}

function uniqueBy<T>(items: readonly T[], key: (item: T) => string): T[] {
  const seen = new Map<string, T>();
  for (const item of items) if (!seen.has(key(item))) seen.set(key(item), item);
  return [...seen.values()];
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const result: T[][] = [];
  for (let offset = 0; offset < items.length; offset += size) {
    result.push(items.slice(offset, offset + size));
  }
  return result;
}

/**
 * The version each stored snapshot uses, by snapshot id, read without decrypting definitions:
 * enough to rebuild an unchanged snapshot from the project's own definition.
 */
export async function readSnapshotVersions(
  store: StateStore,
  ids: readonly string[],
): Promise<Map<string, string>> {
  const versions = new Map<string, string>();
  for (const chunk of chunks(ids, IDS_PER_QUERY)) {
    const rows = await store.db
      .selectFrom(SNAPSHOTS_TABLE)
      .innerJoin(VERSIONS_TABLE, `${VERSIONS_TABLE}.id`, `${SNAPSHOTS_TABLE}.version_id`)
      .select([`${SNAPSHOTS_TABLE}.id as id`, `${VERSIONS_TABLE}.version as version`])
      .where(`${SNAPSHOTS_TABLE}.id`, 'in', chunk)
      .execute();
    for (const row of rows) versions.set(String(row.id), String(row.version));
  }
  return versions;
}
