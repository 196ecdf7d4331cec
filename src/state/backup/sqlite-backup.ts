import { resolve } from 'node:path';
import { SluiceError } from '../../core/errors.js';
import type { StateStore } from '../state-store.js';
import type { KeyRing, StateKey } from '../state-types.js';
import { internalsOf } from '../store-internals.js';
import { VERSION_TABLE } from '../version-table.js';
import { type BackupManifest, backupInvalid, checkAgainstManifest } from './backup-manifest.js';
import { runInSqliteWorker, type WorkerStatement } from './sqlite-worker.js';

/**
 * The SQLite backup: `VACUUM INTO` writes a consistent copy of the live file, encrypted with the
 * same SQLCipher key, while the store keeps writing (WAL lets a reader and a writer run at once).
 * It runs on a connection of its own in a worker thread, so neither the event loop nor the
 * store's connection waits for it. SQLite's online backup API cannot copy between encrypted
 * databases, so it is not used.
 */

/** What a SQLite copy holds. */
export type SqliteContent = {
  readonly keyId: string;
  readonly schemaVersion: number;
  readonly tables: Readonly<Record<string, number>>;
};

type Inspection = Omit<SqliteContent, 'keyId'> & { readonly problems: readonly string[] };

/** Copies the store into `path` (absent or empty) and reads back what the copy holds. */
export async function writeSqliteCopy(store: StateStore, path: string): Promise<SqliteContent> {
  if (store.location.backend !== 'sqlite') {
    throw new SluiceError('internal', `A ${store.backend} store has no SQLite file to copy`);
  }
  const keyId = internalsOf(store).fileKeyId() ?? store.keyRing.active.id;
  const key = store.keyRing.keys.get(keyId) ?? store.keyRing.active;

  await runInSqliteWorker({
    path: store.location.path,
    key,
    isReadonly: true,
    statements: [{ sql: 'VACUUM INTO ?', params: [resolve(path)], mode: 'run' }],
  });
  const { schemaVersion, tables } = await inspectCopy(path, key, false);
  return { keyId, schemaVersion, tables };
}

/** Opens a copy with the manifest's key and checks integrity, schema version and row counts. */
export async function verifySqliteCopy(
  path: string,
  manifest: BackupManifest,
  ring: KeyRing,
): Promise<void> {
  const key = ring.keys.get(manifest.keyId);
  if (key === undefined)
    throw backupInvalid(path, `key '${manifest.keyId}' is not in the key ring`);

  const inspection = await inspectCopy(path, key, true);
  if (inspection.problems.length > 0) {
    const shown = inspection.problems.slice(0, 3).join('; ');
    throw backupInvalid(path, `its integrity check failed (${shown})`);
  }
  checkAgainstManifest(path, manifest, inspection.schemaVersion, inspection.tables);
}

/** The copy's schema version, row counts and (when asked) integrity problems. */
async function inspectCopy(path: string, key: StateKey, isChecked: boolean): Promise<Inspection> {
  const [master = []] = await queryCopy(path, key, [
    { sql: `SELECT name FROM sqlite_master WHERE type = 'table'` },
  ]);
  const names = master.map((row) => String(row.name)).filter((name) => !name.startsWith('sqlite_'));
  const tables = names.sort();

  const statements: WorkerStatement[] = [
    { sql: isChecked ? 'PRAGMA integrity_check' : `SELECT 'ok' AS integrity_check` },
    tables.includes(VERSION_TABLE)
      ? { sql: `SELECT max(version) AS n FROM ${quoted(VERSION_TABLE)}` }
      : { sql: 'SELECT 0 AS n' },
    ...tables.map((table) => ({ sql: `SELECT count(*) AS n FROM ${quoted(table)}` })),
  ];
  const [integrity = [], version = [], ...counts] = await queryCopy(path, key, statements);

  return {
    problems: integrity.map((row) => String(row.integrity_check)).filter((text) => text !== 'ok'),
    schemaVersion: Number(version[0]?.n ?? 0),
    tables: Object.fromEntries(
      tables.map((table, index) => [table, Number(counts[index]?.[0]?.n)]),
    ),
  };
}

/**
 * Runs read-only statements on a copy; any failure means the copy is damaged or keyed otherwise.
 */
async function queryCopy(path: string, key: StateKey, statements: readonly WorkerStatement[]) {
  try {
    return await runInSqliteWorker({ path: resolve(path), key, isReadonly: true, statements });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw backupInvalid(
      path,
      `it cannot be read with key '${key.id}' (${reason}): the file is damaged or encrypted ` +
        'with another key',
      error,
    );
  }
}

function quoted(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
