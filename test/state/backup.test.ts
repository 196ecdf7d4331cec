import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile, rm, stat, truncate, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setImmediate, setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import type { LogFields, Logger } from '../../src/core/logger.js';
import { verifyAuditChain } from '../../src/state/audit-chain.js';
import { readAuditEntries } from '../../src/state/audit-log.js';
import {
  createBackup,
  NightlyBackup,
  pruneBackups,
  restoreBackup,
  verifyBackup,
} from '../../src/state/backup/backup.js';
import { formatKeyRing } from '../../src/state/crypto/key-ring.js';
import { STATE_MIGRATIONS } from '../../src/state/migrations/index.js';
import type { StateStore } from '../../src/state/state-store.js';
import { errorOf } from '../helpers/errors.js';
import { stateBackendsUnderTest, testKeyRing, testStateKey } from '../helpers/state-backends.js';
import {
  changeState,
  flipByte,
  openTestStore,
  snapshotTables,
  type TestStore,
  writeAuditEntries,
  writeManyRows,
  writeParents,
} from './backup-fixture.js';

const ring = testKeyRing(testStateKey('k1'));
const DAY_MS = 24 * 60 * 60 * 1000;
const CRASH_CHILD = fileURLToPath(new URL('./fixtures/backup-crash-child.mjs', import.meta.url));
const BUILT_BACKUP = fileURLToPath(new URL('../../dist/state/backup/backup.js', import.meta.url));

/** A logger that keeps every line, for assertions. */
function recordingLogger(lines: { level: string; message: string; fields: LogFields }[]): Logger {
  const at =
    (level: string) =>
    (fields: LogFields, message: string): void => {
      lines.push({ level, message, fields });
    };
  const logger: Logger = {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: () => logger,
  };
  return logger;
}

/**
 * Checks that every table holds exactly its rows at backup time, except the audit log, which also
 * holds the entry recording the restore, chained after the backup's last entry.
 */
async function expectRestored(store: StateStore, atBackup: Record<string, string[]>) {
  const { sluice_audit_log: entries = [], ...tables } = await snapshotTables(store);
  const { sluice_audit_log: entriesAtBackup = [], ...tablesAtBackup } = atBackup;

  expect(tables).toEqual(tablesAtBackup);
  expect(entries).toEqual(expect.arrayContaining(entriesAtBackup));
  expect(entries).toHaveLength(entriesAtBackup.length + 1);
  const last = (await readAuditEntries(store, { limit: 1_000 })).at(-1);
  expect(last).toMatchObject({ actor: 'local', action: 'state.restored', subject: 'state' });
  expect(await verifyAuditChain(store)).toMatchObject({ intact: true });
}

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(20);
  }
}

/** Runs a backup in a child process built from dist/; resolves with how the child ended. */
function backupInChild(test: TestStore, failpoint: string) {
  if (!existsSync(BUILT_BACKUP)) {
    throw new Error(
      `The crash test runs a backup from the build, but ${BUILT_BACKUP} is missing; ` +
        'run `npm run build` first (CI builds during `npm ci`)',
    );
  }
  const input = { location: test.location.location, keys: formatKeyRing(ring), dir: test.dir };
  const child = spawn(process.execPath, [CRASH_CHILD], {
    env: {
      ...process.env,
      SLUICE_FAILPOINT: failpoint,
      SLUICE_TEST_BACKUP_CHILD: JSON.stringify(input),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr += String(chunk);
  });
  return new Promise<{ signal: NodeJS.Signals | null; pid: number; stderr: string }>(
    (resolve, reject) => {
      child.on('error', reject);
      child.on('exit', (_code, signal) => resolve({ signal, pid: child.pid ?? 0, stderr }));
    },
  );
}

for (const backend of stateBackendsUnderTest()) {
  const title = backend.skipReason === '' ? '' : ` (skipped: ${backend.skipReason})`;

  describe.skipIf(backend.skipReason !== '')(`state backups on ${backend.name}${title}`, () => {
    const opened: TestStore[] = [];

    async function open(migrations?: Parameters<typeof openTestStore>[2]): Promise<TestStore> {
      const test = await openTestStore(backend, ring, migrations);
      opened.push(test);
      return test;
    }

    async function filledStore(): Promise<TestStore> {
      const test = await open();
      await writeAuditEntries(test.store, 5, 'before');
      await writeParents(test.store, 4, 'before');
      return test;
    }

    afterEach(async () => {
      for (const test of opened.splice(0)) await test.cleanup();
    });

    it('restores every table to exactly the rows it held at backup time', async () => {
      const { store, dir } = await filledStore();
      const atBackup = await snapshotTables(store);

      const backup = await createBackup(store, { dir, reason: 'manual' });
      await changeState(store);
      expect(await snapshotTables(store)).not.toEqual(atBackup);
      const manifest = await restoreBackup(store, backup.path);

      expect(manifest.checksumSha256).toBe(backup.checksumSha256);
      await expectRestored(store, atBackup);
      const entries = await readAuditEntries(store, { limit: 100 });
      expect(entries.map((entry) => entry.subject)).toEqual([
        ...[0, 1, 2, 3, 4].map((i) => `before-${i}`),
        'state',
      ]);
      expect(entries[4]?.details).toMatchObject({ index: 4, tag: 'before' });
      expect(entries[5]).toMatchObject({
        seq: 6,
        actor: 'local',
        action: 'state.restored',
        details: {
          backup: backup.file,
          createdAt: manifest.createdAt,
          schemaVersion: manifest.schemaVersion,
        },
      });
      await writeParents(store, 1, 'after restore');
    });

    it('restores tables larger than one export batch, with and without a primary key', async () => {
      const { store, dir } = await filledStore();
      await writeManyRows(store, 4_500);
      const atBackup = await snapshotTables(store);

      const backup = await createBackup(store, { dir, reason: 'manual' });
      await changeState(store);
      await sql`DELETE FROM test_notes`.execute(store.db);
      await restoreBackup(store, backup.path);

      expect(backup.tables.test_notes).toBe(4_500);
      await expectRestored(store, atBackup);
    });

    it('writes a manifest naming file, checksum, key, schema version and row counts', async () => {
      const { store, dir } = await filledStore();
      const now = new Date('2026-03-04T05:06:07.890Z');
      const backup = await createBackup(store, { dir, reason: 'pre-migration', now });

      const extension = backend.name === 'sqlite' ? 'db' : 'export';
      expect(backup.file).toBe(
        `sluice-state-${backend.name}-20260304T050607Z-pre-migration.${extension}`,
      );
      expect(backup.path).toBe(join(dir, backup.file));
      const manifest = JSON.parse(await readFile(`${backup.path}.manifest.json`, 'utf8'));
      expect(manifest).toEqual({
        format: 1,
        backend: backend.name,
        file: backup.file,
        sizeBytes: (await stat(backup.path)).size,
        checksumSha256: expect.stringMatching(/^[0-9a-f]{64}$/),
        schemaVersion: STATE_MIGRATIONS.length + 1,
        keyId: 'k1',
        createdAt: '2026-03-04T05:06:07.890Z',
        reason: 'pre-migration',
        tables: {
          sluice_audit_log: 5,
          sluice_environment_settings: 0,
          sluice_environments: 0,
          sluice_executors: 0,
          sluice_intervals: 0,
          sluice_leases: 0,
          sluice_oauth_client_secrets: 0,
          sluice_oauth_clients: 0,
          sluice_paused_models: 0,
          sluice_plans: 0,
          sluice_run_events: 0,
          sluice_runs: 0,
          sluice_schema_migrations: STATE_MIGRATIONS.length + 1,
          sluice_signing_keys: 0,
          sluice_snapshots: 0,
          sluice_store_info: 3,
          sluice_task_attempts: 0,
          sluice_task_costs: 0,
          sluice_task_dependencies: 0,
          sluice_task_logs: 0,
          sluice_tasks: 0,
          sluice_versions: 0,
          test_a_children: 8,
          test_notes: 0,
          test_parents: 4,
        },
      });
      expect(await verifyBackup(backup.path, ring)).toEqual(manifest);
      const second = await createBackup(store, { dir, reason: 'pre-migration', now });
      expect(second.file).toMatch(/-pre-migration-2\.(db|export)$/);
      expect((await readdir(dir)).sort()).toHaveLength(4);
    });

    it('gives backups taken at the same moment distinct names', async () => {
      const { store, dir } = await filledStore();
      const now = new Date('2026-03-04T05:06:07Z');
      const backups = await Promise.all(
        [1, 2, 3].map(() => createBackup(store, { dir, reason: 'manual', now })),
      );

      expect(new Set(backups.map((backup) => backup.file)).size).toBe(3);
      for (const backup of backups) await verifyBackup(backup.path, ring);
      expect(await readdir(dir)).toHaveLength(6);
    });

    it('backs up while a write transaction is open, leaving out its uncommitted rows', async () => {
      const { store, dir } = await filledStore();
      const backup = await store.db.transaction().execute(async (trx) => {
        await trx.deleteFrom('sluice_store_info').execute();
        return createBackup(store, { dir, reason: 'manual' });
      });

      expect(backup.tables.sluice_store_info).toBe(3);
      expect((await verifyBackup(backup.path, ring)).tables.sluice_store_info).toBe(3);
    });

    it('keeps payloads and the file unreadable without the key', async () => {
      const { store, dir } = await filledStore();
      const backup = await createBackup(store, { dir, reason: 'manual' });
      const bytes = await readFile(backup.path);

      expect(bytes.includes(Buffer.from('before-1'))).toBe(false);
      expect(bytes.includes(Buffer.from('sluice_audit_log'))).toBe(false);
    });

    describe('verification', () => {
      async function backupOf(): Promise<{ path: string; test: TestStore }> {
        const test = await filledStore();
        const backup = await createBackup(test.store, { dir: test.dir, reason: 'manual' });
        return { path: backup.path, test };
      }

      it('rejects a truncated file', async () => {
        const { path } = await backupOf();
        await truncate(path, (await stat(path)).size - 100);
        const error = await errorOf(verifyBackup(path, ring));
        expect(error.code).toBe('backup_invalid');
        expect(error.message).toMatch(/bytes but its manifest says .*truncated/);
      });

      it('rejects a file with one flipped byte', async () => {
        const { path } = await backupOf();
        await flipByte(path, Math.floor((await stat(path)).size / 2));
        const error = await errorOf(verifyBackup(path, ring));
        expect(error.code).toBe('backup_invalid');
        expect(error.message).toContain('checksum differs from its manifest');
      });

      it('rejects an altered file even if its manifest checksum was updated to match', async () => {
        const { path } = await backupOf();
        await flipByte(path, Math.floor((await stat(path)).size / 2));
        const manifest = JSON.parse(await readFile(`${path}.manifest.json`, 'utf8'));
        const { createHash } = await import('node:crypto');
        manifest.checksumSha256 = createHash('sha256')
          .update(await readFile(path))
          .digest('hex');
        await writeFile(`${path}.manifest.json`, JSON.stringify(manifest));

        const error = await errorOf(verifyBackup(path, ring));
        expect(error.code).toBe('backup_invalid');
        expect(error.message).toMatch(/tag does not match|cannot be read|integrity|damaged/);
      });

      it('rejects a file without its manifest', async () => {
        const { path } = await backupOf();
        await rm(`${path}.manifest.json`);
        const error = await errorOf(verifyBackup(path, ring));
        expect(error.code).toBe('backup_invalid');
        expect(error.message).toContain('its manifest');
      });

      it('rejects a manifest with a wrong checksum', async () => {
        const { path } = await backupOf();
        const manifest = JSON.parse(await readFile(`${path}.manifest.json`, 'utf8'));
        manifest.checksumSha256 = '0'.repeat(64);
        await writeFile(`${path}.manifest.json`, JSON.stringify(manifest));
        const error = await errorOf(verifyBackup(path, ring));
        expect(error.code).toBe('backup_invalid');
        expect(error.message).toContain('checksum differs');
      });

      it('rejects a backup taken with a key that is not in the ring', async () => {
        const { path } = await backupOf();
        const otherRing = testKeyRing(testStateKey('k2'));
        const error = await errorOf(verifyBackup(path, otherRing));
        expect(error.code).toBe('backup_invalid');
        expect(error.message).toContain(`key 'k1', which is not in the key ring`);
        expect(error.message).not.toContain(ring.active.secret.toString('base64'));
      });

      it('accepts the manifest path in place of the data file', async () => {
        const { path } = await backupOf();
        expect((await verifyBackup(`${path}.manifest.json`, ring)).file).toBe(
          path.split('/').at(-1),
        );
      });
    });

    describe('restore', () => {
      it('refuses an invalid file and leaves the store unchanged', async () => {
        const { store, dir } = await filledStore();
        const backup = await createBackup(store, { dir, reason: 'manual' });
        await changeState(store);
        const before = await snapshotTables(store);
        await flipByte(backup.path, -20);

        const error = await errorOf(restoreBackup(store, backup.path));
        expect(error.code).toBe('backup_invalid');
        expect(await snapshotTables(store)).toEqual(before);
      });

      it('refuses a backup of another schema version and leaves the store unchanged', async () => {
        const older = await open(STATE_MIGRATIONS);
        const backup = await createBackup(older.store, { dir: older.dir, reason: 'manual' });
        const { store } = await filledStore();
        const before = await snapshotTables(store);

        const error = await errorOf(restoreBackup(store, backup.path));
        expect(error.code).toBe('backup_refused');
        expect(error.message).toContain('restore it with the Sluice version that wrote it');
        expect(await snapshotTables(store)).toEqual(before);
      });
    });

    describe('pruning', () => {
      const now = new Date('2026-06-30T12:00:00Z');
      const daysAgo = (days: number) => new Date(now.getTime() - days * DAY_MS);

      it('removes backups older than the retention and keeps newer ones', async () => {
        const { store, dir } = await filledStore();
        const old = await createBackup(store, { dir, reason: 'nightly', now: daysAgo(20) });
        const recent = await createBackup(store, { dir, reason: 'nightly', now: daysAgo(3) });

        const removed = await pruneBackups(dir, { now });
        expect(removed.sort()).toEqual([old.path, `${old.path}.manifest.json`].sort());
        await verifyBackup(recent.path, ring);
        expect(await readdir(dir)).toHaveLength(2);
      });

      it('keeps the newest good backup even when every backup is old', async () => {
        const { store, dir } = await filledStore();
        const oldest = await createBackup(store, { dir, reason: 'nightly', now: daysAgo(40) });
        const good = await createBackup(store, { dir, reason: 'nightly', now: daysAgo(30) });
        const damaged = await createBackup(store, { dir, reason: 'manual', now: daysAgo(20) });
        await flipByte(damaged.path, 100);

        const removed = await pruneBackups(dir, { now, retentionDays: 14 });
        expect(removed).toHaveLength(4);
        expect(removed).toContain(oldest.path);
        expect(removed).toContain(damaged.path);
        expect(await verifyBackup(good.path, ring)).toMatchObject({ reason: 'nightly' });
      });

      it('removes old files without a manifest and temporary files of dead processes', async () => {
        const { store, dir } = await filledStore();
        const kept = await createBackup(store, { dir, reason: 'manual', now: daysAgo(1) });
        const orphan = join(dir, 'sluice-state-sqlite-20260101T000000Z-manual.db');
        const freshOrphan = join(dir, 'sluice-state-sqlite-20260629T000000Z-manual.db');
        const temporary = join(
          dir,
          `sluice-state-sqlite-20260629T000000Z-manual.db.tmp-${2 ** 22 + 1}`,
        );
        const foreign = join(dir, 'notes.txt');
        for (const path of [orphan, freshOrphan, temporary, foreign]) await writeFile(path, 'x');
        await utimes(orphan, daysAgo(30), daysAgo(30));
        await utimes(foreign, daysAgo(30), daysAgo(30));

        const removed = await pruneBackups(dir, { now });
        expect(removed.sort()).toEqual([orphan, temporary].sort());
        expect(existsSync(freshOrphan)).toBe(true);
        expect(existsSync(foreign)).toBe(true);
        await verifyBackup(kept.path, ring);
      });
    });

    describe('nightly backups', () => {
      it('backs up on schedule while another loop keeps writing', async () => {
        const { store, dir } = await filledStore();
        const lines: { level: string; message: string; fields: LogFields }[] = [];
        const nightly = new NightlyBackup(store, {
          dir,
          cron: '* * * * * *',
          logger: recordingLogger(lines),
        });
        let isWriting = true;
        let written = 0;
        const writer = (async () => {
          while (isWriting) {
            await writeAuditEntries(store, 1, `loop-${written}`);
            written += 1;
            // SQLite answers synchronously; yielding lets timers (the schedule) run in between.
            await setImmediate();
          }
        })();

        nightly.start();
        try {
          await waitFor(
            () => lines.some((line) => line.message.startsWith('state backup written')),
            15_000,
          );
        } finally {
          await nightly.stop();
          const writtenAtStop = written;
          await waitFor(() => written > writtenAtStop + 2, 5_000);
          isWriting = false;
          await writer;
        }

        const done = lines.find((line) => line.message.startsWith('state backup written'));
        const manifest = await verifyBackup(String(done?.fields.path), ring);
        expect(manifest.reason).toBe('nightly');
        expect(manifest.tables.sluice_audit_log).toBeGreaterThan(5);
        expect(manifest.tables.sluice_audit_log).toBeLessThan(5 + written);
        expect(lines.filter((line) => line.level === 'error')).toEqual([]);
      });

      it('waits in stop() for a backup that is running', async () => {
        const { store, dir } = await filledStore();
        const lines: { level: string; message: string; fields: LogFields }[] = [];
        const nightly = new NightlyBackup(store, {
          dir,
          cron: '* * * * * *',
          logger: recordingLogger(lines),
        });

        nightly.start();
        await waitFor(() => lines.some((line) => line.message === 'state backup started'), 5_000);
        await nightly.stop();

        const messages = lines.map((line) => line.message);
        expect(messages.at(-2)).toBe('state backup written and verified');
        expect(messages.at(-1)).toBe('state backups stopped');
        const files = await readdir(dir);
        expect(files.filter((name) => name.endsWith('.manifest.json'))).toHaveLength(1);
        expect(files.some((name) => name.includes('.tmp-'))).toBe(false);
      });

      it('logs a failed backup at error and tries again at the next tick', async () => {
        const { store, dir } = await filledStore();
        const blocked = join(dir, 'not-a-folder');
        await writeFile(blocked, 'x');
        const lines: { level: string; message: string; fields: LogFields }[] = [];
        const nightly = new NightlyBackup(store, {
          dir: blocked,
          cron: '* * * * * *',
          logger: recordingLogger(lines),
        });

        nightly.start();
        try {
          await waitFor(() => lines.filter((line) => line.level === 'error').length >= 2, 5_000);
        } finally {
          await nightly.stop();
        }
        const failure = lines.find((line) => line.level === 'error');
        expect(failure?.message).toContain('tried again at the next scheduled time');
        expect(failure?.fields.code).toBe('state_error');
      });

      it('refuses a schedule that is not a cron pattern', () => {
        expect(() => new NightlyBackup({} as never, { dir: '/tmp', cron: 'at two' })).toThrow(
          /'at two' is not a cron pattern/,
        );
      });
    });

    describe('a crash during a backup', () => {
      for (const failpoint of ['backup-after-copy', 'backup-before-manifest']) {
        it(`at ${failpoint} leaves earlier backups intact and nothing that verifies`, async () => {
          const test = await open(STATE_MIGRATIONS);
          await writeAuditEntries(test.store, 3, 'before');
          const earlier = await createBackup(test.store, { dir: test.dir, reason: 'manual' });

          const child = await backupInChild(test, failpoint);
          expect(child.signal, child.stderr).toBe('SIGKILL');

          const earlierFiles = [earlier.file, `${earlier.file}.manifest.json`];
          const left = (await readdir(test.dir)).filter((name) => !earlierFiles.includes(name));
          expect(left).toHaveLength(1);
          const partial = join(test.dir, left[0] ?? '');
          expect(partial.endsWith(`.tmp-${child.pid}`)).toBe(failpoint === 'backup-after-copy');
          expect((await errorOf(verifyBackup(partial, ring))).code).toBe('backup_invalid');
          await verifyBackup(earlier.path, ring);

          const next = await createBackup(test.store, { dir: test.dir, reason: 'manual' });
          await verifyBackup(next.path, ring);
          const names = await readdir(test.dir);
          expect(names.some((name) => name.includes('.tmp-'))).toBe(false);
        });
      }
    });
  });
}
