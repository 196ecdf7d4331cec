import Database from 'better-sqlite3-multiple-ciphers';
import type { Kysely } from 'kysely';
import { SluiceError } from '../../core/errors.js';
import { sqliteFileKey } from '../crypto/sqlite-file-key.js';
import type { StateDatabase } from '../state-store.js';
import type { KeyRing, StateKey } from '../state-types.js';

/**
 * Opening the encrypted SQLite state file. The whole file is encrypted with SQLCipher 4 (through
 * SQLite3 Multiple Ciphers); the key is set by pragma before the first read and never appears in
 * a URI. A wrong key shows as SQLITE_NOTADB on the first read, which is turned into
 * `state_key_invalid` so that a wrong key can never look like an empty store.
 */

/** A raw better-sqlite3 connection. */
export type SqliteHandle = Database.Database;

/** A connection keyed and verified, and the key of the ring that opened it. */
export type KeyedSqlite = { readonly handle: SqliteHandle; readonly key: StateKey };

const NOT_A_DATABASE = 'SQLITE_NOTADB';

/** How long a statement waits for another connection's lock before failing with SQLITE_BUSY. */
export const SQLITE_BUSY_TIMEOUT_MS = 10_000;

/** Opens the file with one key and checks it by reading `sqlite_master`; throws on failure. */
export function openKeyedSqlite(path: string, key: StateKey): SqliteHandle {
  const handle = new Database(path);
  try {
    handle.pragma(`cipher = 'sqlcipher'`);
    handle.pragma('legacy = 4');
    handle.pragma(`key = "x'${sqliteFileKey(key)}'"`);
    handle.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
    handle.prepare('SELECT count(*) FROM sqlite_master').get();
    return handle;
  } catch (error) {
    handle.close();
    throw error;
  }
}

/**
 * Opens the file with the ring's active key, or else with any other key of the ring (the file may
 * still be keyed by an older key after an interrupted rekey or a newly added active key).
 */
export function openWithKeyRing(path: string, ring: KeyRing, keySource: string): KeyedSqlite {
  const keys = [ring.active, ...[...ring.keys.values()].filter((key) => key.id !== ring.active.id)];
  for (const key of keys) {
    try {
      return { handle: openKeyedSqlite(path, key), key };
    } catch (error) {
      if (errorCodeOf(error) !== NOT_A_DATABASE) throw cannotOpen(path, error);
    }
  }
  throw wrongKeys(path, ring, keySource);
}

/**
 * Closes the Kysely instance and the handle: Kysely only closes what it has used, so a store
 * closed before its first query would otherwise keep the file open.
 */
export async function closeSqlite(db: Kysely<StateDatabase>, handle: SqliteHandle): Promise<void> {
  await db.destroy();
  if (handle.open) handle.close();
}

/**
 * Re-encrypts the whole file with `key`. SQLite3 Multiple Ciphers cannot rekey in WAL mode, so
 * the journal mode is DELETE while it runs, which needs every other connection to be closed.
 */
export function rekeySqliteFile(handle: SqliteHandle, path: string, key: StateKey): void {
  try {
    // Only in WAL mode do other connections hold a lock that makes leaving WAL fail while they
    // are open; in rollback mode an idle connection would be left with the old key.
    const current = handle.pragma('journal_mode', { simple: true });
    if (current !== 'wal') throw new Error(`the file is in '${String(current)}' journal mode`);
    const mode = handle.pragma('journal_mode = DELETE', { simple: true });
    if (mode !== 'delete') throw new Error(`the journal mode stayed '${String(mode)}'`);
    handle.pragma(`rekey = "x'${sqliteFileKey(key)}'"`);
  } catch (error) {
    throw new SluiceError(
      'state_error',
      `The state file '${path}' cannot be re-encrypted with key '${key.id}' ` +
        `(${reasonOf(error)}); stop every other process that uses it and run ` +
        '`sluice state rekey` again',
      { cause: error, retryable: true },
    );
  } finally {
    restoreWal(handle);
  }
}

/**
 * Sets the journal mode back to WAL and reads, so that this connection holds its shared lock
 * again (see sqlite-backend.ts); when another connection prevents it, DELETE stays.
 */
function restoreWal(handle: SqliteHandle): void {
  try {
    handle.pragma('journal_mode = WAL');
    handle.prepare('SELECT count(*) FROM sqlite_master').get();
  } catch {
    // DELETE mode is as safe, only slower with concurrent readers; the next open sets WAL again.
  }
}

/** Turns an error of the SQLite driver into a message fragment; it never holds key bytes. */
export function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The SQLite result code of a driver error, such as 'SQLITE_BUSY'. */
export function errorCodeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function cannotOpen(path: string, error: unknown): SluiceError {
  return new SluiceError(
    'state_error',
    `The state file '${path}' cannot be opened (${reasonOf(error)}); check that its folder ` +
      'exists and that Sluice may read and write it',
    { cause: error },
  );
}

function wrongKeys(path: string, ring: KeyRing, keySource: string): SluiceError {
  const ids = [...ring.keys.keys()].map((id) => `'${id}'`).join(', ');
  return new SluiceError(
    'state_key_invalid',
    `The state file '${path}' cannot be opened with the keys from ${keySource} (${ids}); it is ` +
      'encrypted with another key, or it is not a Sluice state file. Give the right key in ' +
      'SLUICE_STATE_KEYS or SLUICE_STATE_KEYS_FILE, or restore the file from a backup',
  );
}
