import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Kysely, SqliteDialect, sql } from 'kysely';
import type { StateDatabase } from '../state-store.js';
import type { KeyRing, StateKey } from '../state-types.js';
import type { BackendConnection } from '../store-internals.js';
import {
  closeSqlite,
  openWithKeyRing,
  rekeySqliteFile,
  SQLITE_BUSY_TIMEOUT_MS,
  type SqliteHandle,
} from './sqlite-keying.js';
import { withSqliteMigrationSession } from './sqlite-migration-session.js';

/**
 * The SQLite backend: one encrypted file, one connection per store (Kysely serialises its use),
 * WAL so that readers never wait for the writer, and `BEGIN IMMEDIATE` for write transactions so
 * that two processes never deadlock upgrading a read lock.
 */

/** Opens the state file with the key ring, creating the file and its folder when missing. */
export async function openSqliteBackend(
  path: string,
  ring: KeyRing,
  keySource: string,
): Promise<BackendConnection> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const opened = openWithKeyRing(path, ring, keySource);
  const handle = opened.handle;
  configure(handle);
  let fileKey = moveToActiveKey(handle, path, opened.key, ring);

  const db = new Kysely<StateDatabase>({ dialect: new SqliteDialect({ database: handle }) });
  return {
    db,
    withMigrationSession: (work) => withSqliteMigrationSession(path, fileKey, work),
    writeTransaction: (work) => immediateTransaction(db, work),
    rekeyFile: async () => {
      if (fileKey.id === ring.active.id) return;
      await db.connection().execute(async () => rekeySqliteFile(handle, path, ring.active));
      fileKey = ring.active;
    },
    fileKeyId: () => fileKey.id,
    close: () => closeSqlite(db, handle),
  };
}

/** Runs `work` in a `BEGIN IMMEDIATE` transaction on the store's connection. */
export async function immediateTransaction<T>(
  db: Kysely<StateDatabase>,
  work: (db: Kysely<StateDatabase>) => Promise<T>,
): Promise<T> {
  return db.connection().execute(async (connection) => {
    await sql`BEGIN IMMEDIATE`.execute(connection);
    try {
      const result = await work(connection);
      await sql`COMMIT`.execute(connection);
      return result;
    } catch (error) {
      // SQLite may already have rolled back (after SQLITE_FULL, for one); the first error counts.
      await sql`ROLLBACK`.execute(connection).catch(() => undefined);
      throw error;
    }
  });
}

/**
 * A file opened with an older key of the ring is re-encrypted with the active key at once. When
 * another process holds the file open this fails; the store then keeps the older key, which
 * still works, and `sluice state rekey` retries.
 */
function moveToActiveKey(
  handle: SqliteHandle,
  path: string,
  key: StateKey,
  ring: KeyRing,
): StateKey {
  if (key.id === ring.active.id) return key;
  handle.pragma('busy_timeout = 0');
  try {
    rekeySqliteFile(handle, path, ring.active);
    return ring.active;
  } catch {
    return key;
  } finally {
    handle.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
  }
}

/**
 * WAL, then a read: a connection that has read in WAL mode holds a shared lock on the file until
 * it closes, which is what makes a rekey elsewhere (it must leave WAL mode) fail instead of
 * re-encrypting the file under this connection's feet.
 */
function configure(handle: SqliteHandle): void {
  handle.pragma('journal_mode = WAL');
  handle.pragma('foreign_keys = ON');
  handle.prepare('SELECT count(*) FROM sqlite_master').get();
}
