import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { appendAuditEntry } from '../../src/state/audit-log.js';
import { STATE_MIGRATIONS } from '../../src/state/migrations/index.js';
import { openState } from '../../src/state/open-state.js';
import type { Migration } from '../../src/state/state-types.js';
import {
  stateBackendsUnderTest,
  type TestStateLocation,
  testKeyRing,
  testStateKey,
} from '../helpers/state-backends.js';

const NEXT: Migration = {
  version: STATE_MIGRATIONS.length + 1,
  name: 'notes',
  up: async (db) => {
    await sql`CREATE TABLE sluice_test_notes (id TEXT PRIMARY KEY)`.execute(db);
  },
};

for (const backend of stateBackendsUnderTest()) {
  const title =
    backend.skipReason === '' ? backend.name : `${backend.name} (skipped: ${backend.skipReason})`;

  describe.skipIf(backend.skipReason !== '')(`opening the state on ${title}`, () => {
    const keyRing = testKeyRing(testStateKey('k1'));
    let test: TestStateLocation | undefined;

    afterEach(async () => test?.cleanup());

    async function storeAtVersionOne(backupDir: string) {
      test = await backend.create();
      const store = await openState({
        location: test.location,
        keyRing,
        backupDir,
        shouldMigrate: true,
        migrations: STATE_MIGRATIONS,
      });
      await appendAuditEntry(store, { actor: 't', action: 'a', subject: 's', details: {} });
      await store.close();
      return test.location;
    }

    it('backs up and verifies before migrating, and not for an empty store', async () => {
      const backupDir = await mkdtemp(join(tmpdir(), 'sluice-backups-'));
      const location = await storeAtVersionOne(backupDir);
      const afterCreate = await readdir(backupDir);

      const store = await openState({
        location,
        keyRing,
        backupDir,
        shouldMigrate: true,
        migrations: [...STATE_MIGRATIONS, NEXT],
      });
      const version = await store.schemaVersion();
      await store.close();
      const manifests = (await readdir(backupDir)).filter((file) => file.endsWith('.json'));
      const manifest = JSON.parse(await readFile(join(backupDir, manifests[0] ?? ''), 'utf8'));

      expect(afterCreate).toEqual([]);
      expect(version).toBe(STATE_MIGRATIONS.length + 1);
      expect(manifests).toHaveLength(1);
      expect(manifest).toMatchObject({
        reason: 'pre-migration',
        schemaVersion: STATE_MIGRATIONS.length,
      });
    });

    it('does not migrate when the backup cannot be written', async () => {
      const folder = await mkdtemp(join(tmpdir(), 'sluice-backups-'));
      const notAFolder = join(folder, 'file');
      await writeFile(notAFolder, 'x');
      const location = await storeAtVersionOne(folder);

      const opening = openState({
        location,
        keyRing,
        backupDir: notAFolder,
        shouldMigrate: true,
        migrations: [...STATE_MIGRATIONS, NEXT],
      });

      await expect(opening).rejects.toThrow(/nothing was migrated/);
      const store = await openState({
        location,
        keyRing,
        backupDir: folder,
        shouldMigrate: false,
        migrations: [...STATE_MIGRATIONS, NEXT],
      });
      const version = await store.schemaVersion();
      await store.close();
      expect(version).toBe(STATE_MIGRATIONS.length);
    });
  });
}
