import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Kysely, sql } from 'kysely';
import { appendAuditEntry } from '../../src/state/audit-log.js';
import { STATE_MIGRATIONS } from '../../src/state/migrations/index.js';
import { openStateStore } from '../../src/state/open-state-store.js';
import type { StateDatabase, StateStore } from '../../src/state/state-store.js';
import type { KeyRing, Migration, StateBackend } from '../../src/state/state-types.js';
import type { StateBackendUnderTest, TestStateLocation } from '../helpers/state-backends.js';

/**
 * Helpers of the backup suite: a store with extra test tables holding the types a restore must
 * keep exactly (64-bit integers, numerics, microsecond timestamps, JSON, bytes, NULLs, a foreign
 * key with ON DELETE CASCADE from a table whose name sorts first, a table without a primary key),
 * writers of state, and a snapshot of every table for comparisons.
 */

/** The project's migrations plus the test tables. */
export const BACKUP_TEST_MIGRATIONS: readonly Migration[] = [
  ...STATE_MIGRATIONS,
  {
    version: STATE_MIGRATIONS.length + 1,
    name: 'backup test tables',
    async up(db, backend) {
      for (const statement of testTables(backend)) await sql.raw(statement).execute(db);
    },
  },
];

function testTables(backend: StateBackend): string[] {
  if (backend === 'postgres') {
    return [
      `CREATE TABLE test_parents (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        name text NOT NULL, big bigint, amount numeric(24, 6), seen_at timestamptz,
        tags jsonb, blob bytea)`,
      `CREATE TABLE test_a_children (parent_id bigint NOT NULL
        REFERENCES test_parents (id) ON DELETE CASCADE, position integer NOT NULL, note text,
        PRIMARY KEY (parent_id, position))`,
      'CREATE TABLE test_notes (note text, at timestamptz)',
    ];
  }
  return [
    `CREATE TABLE test_parents (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL,
      big INTEGER, amount TEXT, seen_at TEXT, tags TEXT, blob BLOB)`,
    `CREATE TABLE test_a_children (parent_id INTEGER NOT NULL
      REFERENCES test_parents (id) ON DELETE CASCADE, position INTEGER NOT NULL, note TEXT,
      PRIMARY KEY (parent_id, position))`,
    'CREATE TABLE test_notes (note TEXT, at TEXT)',
  ];
}

/** A store for one test, with its location and a backup folder, removed by `cleanup`. */
export type TestStore = {
  readonly store: StateStore;
  readonly location: TestStateLocation;
  readonly dir: string;
  cleanup(): Promise<void>;
};

/** Opens a fresh store on `backend` with the test tables, and a fresh backup folder. */
export async function openTestStore(
  backend: StateBackendUnderTest,
  keyRing: KeyRing,
  migrations: readonly Migration[] = BACKUP_TEST_MIGRATIONS,
): Promise<TestStore> {
  const location = await backend.create();
  const dir = await mkdtemp(join(tmpdir(), 'sluice-backups-'));
  const store = await openStateStore({
    location: location.location,
    keyRing,
    migrations,
    shouldMigrate: true,
  });
  return {
    store,
    location,
    dir,
    cleanup: async () => {
      await store.close();
      await location.cleanup();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

// biome-ignore lint/suspicious/noExplicitAny: the test tables are not in StateDatabase
type AnyDb = Kysely<any>;

/** Appends `count` audit entries with ~1 KB details each. */
export async function writeAuditEntries(store: StateStore, count: number, tag: string) {
  for (let index = 0; index < count; index++) {
    await appendAuditEntry(store, {
      actor: 'test',
      action: 'write',
      subject: `${tag}-${index}`,
      details: { index, tag, text: 'x'.repeat(1000) },
    });
  }
}

/** Inserts parents (with two children each) holding edge values of every test column type. */
export async function writeParents(store: StateStore, count: number, tag: string) {
  const db = store.db as AnyDb;
  const isPostgres = store.backend === 'postgres';
  for (let index = 0; index < count; index++) {
    const parent = await db
      .insertInto('test_parents')
      .values({
        name: `${tag} ${index} 'quoted' "double" ü`,
        big: isPostgres ? '9007199254740993' : 9007199254740991,
        amount: index % 2 === 0 ? '12345678901234.123456' : null,
        seen_at: isPostgres ? '2024-02-29 23:59:59.123456+00' : '2024-02-29T23:59:59.123456Z',
        tags: JSON.stringify({ index, nested: [1, 'two', null] }),
        blob: index % 3 === 0 ? null : Buffer.from([0, 255, index % 256, 10, 13]),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await db
      .insertInto('test_a_children')
      .values([
        { parent_id: parent.id, position: 1, note: null },
        { parent_id: parent.id, position: 2, note: `child of ${tag} ${index}` },
      ])
      .execute();
  }
}

/** Adds `count` children under one new parent and `count` notes (duplicates included). */
export async function writeManyRows(store: StateStore, count: number) {
  const db = store.db as AnyDb;
  await writeParents(store, 1, 'many');
  const parent = await db
    .selectFrom('test_parents')
    .select(db.fn.max('id').as('id'))
    .executeTakeFirstOrThrow();
  const at = store.backend === 'postgres' ? '2024-01-01 00:00:00.000001+00' : 'then';
  for (let start = 3; start < count + 3; start += 500) {
    const positions = Array.from({ length: Math.min(500, count + 3 - start) }, (_, i) => start + i);
    await db
      .insertInto('test_a_children')
      .values(
        positions.map((position) => ({ parent_id: parent.id, position, note: `n${position}` })),
      )
      .execute();
    await db
      .insertInto('test_notes')
      .values(positions.map((position) => ({ note: `note ${position % 7}`, at })))
      .execute();
  }
}

/** Changes existing state: deletes one parent (cascading), renames another, adds entries. */
export async function changeState(store: StateStore) {
  const db = store.db as AnyDb;
  const ids = (await db.selectFrom('test_parents').select('id').orderBy('id').execute()).map(
    (row) => row.id,
  );
  await db.deleteFrom('test_parents').where('id', '=', ids[0]).execute();
  await db.updateTable('test_parents').set({ name: 'renamed' }).where('id', '=', ids[1]).execute();
  await db.deleteFrom('sluice_store_info').where('key', '=', 'created_at').execute();
  await writeAuditEntries(store, 3, 'after');
  await writeParents(store, 2, 'after');
}

/** Every table's rows as sorted JSON texts, exactly as the database holds them. */
export async function snapshotTables(store: StateStore): Promise<Record<string, string[]>> {
  const snapshot: Record<string, string[]> = {};
  for (const table of await store.tableNames()) {
    snapshot[table] = (await rowsOf(store, table)).sort();
  }
  return snapshot;
}

async function rowsOf(store: StateStore, table: string): Promise<string[]> {
  if (store.location.backend === 'postgres') {
    // to_jsonb renders every type in full: microseconds, 64-bit integers, numerics, bytes.
    const result = await sql<{ row: string }>`
      SELECT to_jsonb(t)::text AS row FROM ${sql.id(store.location.schema, table)} AS t`.execute(
      store.db as StateDbAny,
    );
    return result.rows.map((row) => row.row);
  }
  const rows = await (store.db as AnyDb).selectFrom(table).selectAll().execute();
  return rows.map((row) =>
    JSON.stringify(row, (_key, value) =>
      value?.type === 'Buffer' ? `bytes:${Buffer.from(value.data).toString('hex')}` : value,
    ),
  );
}

type StateDbAny = Kysely<StateDatabase>;

/** Flips one bit of the byte at `offset` (from the end when negative). */
export async function flipByte(path: string, offset: number): Promise<void> {
  const bytes = await readFile(path);
  const index = offset < 0 ? bytes.length + offset : offset;
  bytes[index] = (bytes[index] ?? 0) ^ 0x01;
  await writeFile(path, bytes);
}
