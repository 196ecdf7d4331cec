import { setTimeout as sleep } from 'node:timers/promises';
import type { Kysely } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { SluiceError } from '../../src/core/errors.js';
import { STATE_MIGRATIONS } from '../../src/state/migrations/index.js';
import { migrationStatus } from '../../src/state/migrator.js';
import { openStateStore } from '../../src/state/open-state-store.js';
import { newRowId } from '../../src/state/row-id.js';
import type { StateDatabase, StateStore } from '../../src/state/state-store.js';
import type { Migration, StateLocation } from '../../src/state/state-types.js';
import { errorOf } from '../helpers/errors.js';
import {
  stateBackendsUnderTest,
  type TestStateLocation,
  testKeyRing,
  testStateKey,
} from '../helpers/state-backends.js';

const ring = testKeyRing(testStateKey('k1'));

/**
 * The store's first migration only: these tests are about the migrator, so they must not change
 * each time the project adds a migration.
 */
const STORE_ONLY = STATE_MIGRATIONS.slice(0, 1);

/** The project's migrations plus two test ones; each `up` records its version in `calls`. */
function testMigrations(calls: number[], options: { delayMs?: number } = {}): Migration[] {
  const table = (version: number, name: string): Migration => ({
    version,
    name,
    async up(db) {
      calls.push(version);
      await (db as Kysely<StateDatabase>).schema
        .createTable(`test_${name}`)
        .addColumn('id', 'text', (column) => column.primaryKey())
        .execute();
      if (options.delayMs !== undefined) await sleep(options.delayMs);
    },
  });
  const first = STORE_ONLY.map((migration) => ({
    ...migration,
    up: async (db: Kysely<unknown>, backend: 'sqlite' | 'postgres') => {
      calls.push(migration.version);
      await migration.up(db, backend);
    },
  }));
  return [...first, table(2, 'widgets'), table(3, 'gadgets')];
}

for (const backend of stateBackendsUnderTest()) {
  describe.skipIf(backend.skipReason !== '')(`state store on ${backend.name}`, () => {
    let test: TestStateLocation | undefined;
    const stores: StateStore[] = [];

    async function freshLocation(): Promise<StateLocation> {
      test = await backend.create();
      return test.location;
    }

    async function open(
      location: StateLocation,
      options: Partial<Parameters<typeof openStateStore>[0]> = {},
    ): Promise<StateStore> {
      const store = await openStateStore({
        location,
        keyRing: ring,
        migrations: STORE_ONLY,
        ...options,
      });
      stores.push(store);
      return store;
    }

    afterEach(async () => {
      for (const store of stores.splice(0)) await store.close();
      await test?.cleanup();
      test = undefined;
    });

    it('opens an empty store, applies the migrations in order and records each one', async () => {
      const calls: number[] = [];
      const store = await open(await freshLocation(), {
        migrations: testMigrations(calls),
        shouldMigrate: true,
      });

      expect(calls).toEqual([1, 2, 3]);
      expect(await store.schemaVersion()).toBe(3);
      expect(await store.tableNames()).toEqual([
        'sluice_audit_log',
        'sluice_schema_migrations',
        'sluice_store_info',
        'test_gadgets',
        'test_widgets',
      ]);
      const status = await migrationStatus(store, testMigrations([]));
      expect(status.map((line) => [line.version, line.name])).toEqual([
        [1, 'store'],
        [2, 'widgets'],
        [3, 'gadgets'],
      ]);
      expect(status.every((line) => line.appliedAt !== undefined)).toBe(true);
    });

    it('writes its identity when created', async () => {
      const store = await open(await freshLocation(), { shouldMigrate: true });

      const rows = await store.db.selectFrom('sluice_store_info').selectAll().execute();
      const info = Object.fromEntries(rows.map((row) => [row.key, row.value]));
      expect(info.store_id).toMatch(/^[0-9a-f-]{36}$/);
      expect(Date.parse(String(info.created_at))).not.toBeNaN();
    });

    it('applies nothing when re-opened at the current version', async () => {
      const location = await freshLocation();
      const first = await open(location, { migrations: testMigrations([]), shouldMigrate: true });
      await first.close();

      const calls: number[] = [];
      let beforeCalls = 0;
      const again = await open(location, {
        migrations: testMigrations(calls),
        shouldMigrate: true,
        beforeMigrate: async () => {
          beforeCalls += 1;
        },
      });

      expect(calls).toEqual([]);
      expect(beforeCalls).toBe(0);
      expect(await again.schemaVersion()).toBe(3);
    });

    it('applies only the pending migrations, after calling beforeMigrate with them', async () => {
      const location = await freshLocation();
      const first = await open(location, { shouldMigrate: true });
      await first.close();

      const calls: number[] = [];
      const seen: number[][] = [];
      const store = await open(location, {
        migrations: testMigrations(calls),
        shouldMigrate: true,
        beforeMigrate: async (_store, pending) => {
          seen.push(pending.map((migration) => migration.version));
          expect(calls).toEqual([]);
        },
      });

      expect(seen).toEqual([[2, 3]]);
      expect(calls).toEqual([2, 3]);
      expect(await store.schemaVersion()).toBe(3);
    });

    it('lets beforeMigrate read the store while the migration lock is held', async () => {
      const location = await freshLocation();
      const first = await open(location, { shouldMigrate: true });
      // The audit log of schema version 1, written as that version wrote it.
      const address = { table: 'sluice_audit_log', column: 'details', rowId: newRowId() };
      await first.db
        .insertInto('sluice_audit_log')
        .values({
          id: address.rowId,
          occurred_at: new Date().toISOString(),
          actor: 'a',
          action: 'b',
          subject: 'c',
          details: first.cipher.encrypt(JSON.stringify({ n: 1 }), address),
        })
        .execute();
      await first.close();

      const seen: unknown[] = [];
      await open(location, {
        migrations: testMigrations([]),
        shouldMigrate: true,
        beforeMigrate: async (store) => {
          seen.push(await store.schemaVersion(), await store.tableNames());
          seen.push(store.encryptedColumns().length);
          const rows = await store.db.selectFrom('sluice_audit_log').select('details').execute();
          seen.push(
            rows.map((row) => JSON.parse(store.cipher.decryptText(row.details as Buffer, address))),
          );
        },
      });

      expect(seen).toEqual([
        1,
        ['sluice_audit_log', 'sluice_schema_migrations', 'sluice_store_info'],
        1,
        [{ n: 1 }],
      ]);
    });

    it('opens without migrating unless asked to, and reports the pending migrations', async () => {
      const location = await freshLocation();
      const first = await open(location, { shouldMigrate: true });
      await first.close();

      const calls: number[] = [];
      const store = await open(location, { migrations: testMigrations(calls) });

      expect(calls).toEqual([]);
      expect(await store.schemaVersion()).toBe(1);
      const status = await migrationStatus(store, testMigrations([]));
      expect(status.map((line) => line.appliedAt === undefined)).toEqual([false, true, true]);
    });

    it('applies each migration exactly once when two stores migrate at the same time', async () => {
      const location = await freshLocation();
      const calls: number[] = [];
      const migrations = testMigrations(calls, { delayMs: 30 });

      const [a, b] = await Promise.all([
        open(location, { migrations, shouldMigrate: true }),
        open(location, { migrations, shouldMigrate: true }),
      ]);

      expect([...calls].sort()).toEqual([1, 2, 3]);
      expect(await a.schemaVersion()).toBe(3);
      expect(await b.schemaVersion()).toBe(3);
      const versions = await a.db
        .selectFrom('sluice_schema_migrations')
        .select('version')
        .execute();
      expect(versions.map((row) => Number(row.version))).toEqual([1, 2, 3]);
    });

    it('refuses a database newer than this build and says so', async () => {
      const location = await freshLocation();
      const newer = await open(location, { migrations: testMigrations([]), shouldMigrate: true });
      await newer.close();

      for (const shouldMigrate of [true, false]) {
        const error = await errorOf(
          openStateStore({ location, keyRing: ring, migrations: STORE_ONLY, shouldMigrate }),
        );
        expect(error.code).toBe('state_too_new');
        expect(error.message).toContain(
          'is at schema version 3, newer than this Sluice (which knows up to 1); upgrade Sluice ' +
            'or restore a backup taken before the upgrade',
        );
      }
    });

    it('refuses a version table with a gap or a version this build does not know', async () => {
      const location = await freshLocation();
      const store = await open(location, { migrations: testMigrations([]), shouldMigrate: true });

      const withoutTwo = testMigrations([]).filter((migration) => migration.version !== 2);
      const unknown = await errorOf(
        openStateStore({ location, keyRing: ring, migrations: withoutTwo, shouldMigrate: true }),
      );
      expect(unknown.code).toBe('state_error');
      expect(unknown.message).toContain(
        "records migration 2 'widgets', which this Sluice does not know",
      );

      await store.db.deleteFrom('sluice_schema_migrations').where('version', '=', 2).execute();
      const gap = await errorOf(
        openStateStore({ location, keyRing: ring, migrations: testMigrations([]) }),
      );
      expect(gap.code).toBe('state_error');
      expect(gap.message).toContain("migration 2 'widgets' was never applied");
    });

    it('migrates nothing when beforeMigrate fails, and says so', async () => {
      const location = await freshLocation();
      const first = await open(location, { shouldMigrate: true });
      await first.close();

      const calls: number[] = [];
      const error = await errorOf(
        openStateStore({
          location,
          keyRing: ring,
          migrations: testMigrations(calls),
          shouldMigrate: true,
          beforeMigrate: async () => {
            throw new SluiceError('backup_invalid', 'The pre-migration backup failed to verify');
          },
        }),
      );

      expect(error.code).toBe('backup_invalid');
      expect(error.message).toContain(
        'The pre-migration backup failed to verify; nothing was migrated',
      );
      expect(calls).toEqual([]);
      const store = await open(location, { migrations: testMigrations([]) });
      expect(await store.schemaVersion()).toBe(1);
      expect(await store.tableNames()).not.toContain('test_widgets');
    });

    it('rolls back a failing migration together with its version row', async () => {
      const location = await freshLocation();
      const failing: Migration = {
        version: 2,
        name: 'half done',
        async up(db) {
          await (db as Kysely<StateDatabase>).schema
            .createTable('test_half')
            .addColumn('id', 'text')
            .execute();
          throw new Error('the second step broke');
        },
      };

      const error = await errorOf(
        openStateStore({
          location,
          keyRing: ring,
          migrations: [...STORE_ONLY, failing],
          shouldMigrate: true,
        }),
      );

      expect(error.code).toBe('state_error');
      expect(error.message).toContain("Migration 2 'half done' of the state database failed");
      expect(error.message).toContain('stays at schema version 1');
      const store = await open(location);
      expect(await store.schemaVersion()).toBe(1);
      expect(await store.tableNames()).not.toContain('test_half');
    });

    it('declares the encrypted columns of the applied migrations only', async () => {
      const location = await freshLocation();
      const empty = await open(location, { migrations: testMigrations([]) });
      expect(empty.encryptedColumns()).toEqual([]);

      const store = await open(location, { shouldMigrate: true });
      expect(store.encryptedColumns()).toEqual([
        { table: 'sluice_audit_log', column: 'details', idColumn: 'id' },
      ]);
    });

    it('closes idempotently', async () => {
      const store = await open(await freshLocation(), { shouldMigrate: true });
      await store.close();
      await store.close();
      await expect(store.schemaVersion()).rejects.toThrow();
    });
  });
}
