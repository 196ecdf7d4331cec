import { setTimeout as sleep } from 'node:timers/promises';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { SluiceError } from '../../core/errors.js';
import type { StateDatabase } from '../state-store.js';
import type { StateKey } from '../state-types.js';
import type { MigrationSession } from '../store-internals.js';
import {
  closeSqlite,
  errorCodeOf,
  openKeyedSqlite,
  reasonOf,
  type SqliteHandle,
} from './sqlite-keying.js';

/**
 * Migrations on SQLite run on a second connection to the file, whose transactions start with
 * `BEGIN IMMEDIATE`: that takes the file's write lock, so only one connection (in any process)
 * migrates at a time. The lock is waited for asynchronously (short busy timeout, then a sleep),
 * because better-sqlite3 blocks the event loop while it waits, and the holder may be another
 * store in the same process whose work needs that loop.
 */

/** How long a migrator waits for another one to finish before giving up. */
export const MIGRATION_LOCK_WAIT_MS = 10 * 60_000;

const SESSION_BUSY_TIMEOUT_MS = 50;
const RETRY_PAUSE_MS = 25;

/** Runs `work` on a private connection to the file, closed afterwards. */
export async function withSqliteMigrationSession<T>(
  path: string,
  key: StateKey,
  work: (session: MigrationSession) => Promise<T>,
): Promise<T> {
  const handle = openSessionHandle(path, key);
  handle.pragma(`busy_timeout = ${SESSION_BUSY_TIMEOUT_MS}`);
  handle.pragma('foreign_keys = ON');
  const db = new Kysely<StateDatabase>({ dialect: new SqliteDialect({ database: handle }) });

  try {
    return await work({ transaction: (inner) => lockedTransaction(db, handle, path, inner) });
  } finally {
    await closeSqlite(db, handle);
  }
}

function openSessionHandle(path: string, key: StateKey): SqliteHandle {
  try {
    return openKeyedSqlite(path, key);
  } catch (error) {
    throw new SluiceError(
      'state_error',
      `The state file '${path}' cannot be opened a second time for migrating ` +
        `(${reasonOf(error)}); if another process is rekeying it, wait for it and try again`,
      { cause: error, retryable: true },
    );
  }
}

async function lockedTransaction<T>(
  db: Kysely<StateDatabase>,
  handle: SqliteHandle,
  path: string,
  work: (db: Kysely<StateDatabase>) => Promise<T>,
): Promise<T> {
  await beginImmediate(handle, path);
  try {
    const result = await work(db);
    await sql`COMMIT`.execute(db);
    return result;
  } catch (error) {
    if (handle.inTransaction) handle.exec('ROLLBACK');
    throw error;
  }
}

async function beginImmediate(handle: SqliteHandle, path: string): Promise<void> {
  const deadline = Date.now() + MIGRATION_LOCK_WAIT_MS;
  for (;;) {
    try {
      handle.exec('BEGIN IMMEDIATE');
      return;
    } catch (error) {
      if (errorCodeOf(error) !== 'SQLITE_BUSY') throw error;
      if (Date.now() > deadline) throw lockTimeout(path, error);
    }
    await sleep(RETRY_PAUSE_MS + Math.random() * RETRY_PAUSE_MS);
  }
}

function lockTimeout(path: string, cause: unknown): SluiceError {
  return new SluiceError(
    'state_error',
    `Another process has held the write lock of the state file '${path}' for more than ` +
      `${MIGRATION_LOCK_WAIT_MS / 60_000} minutes, so the migration did not start; ` +
      'stop the process that holds it and try again',
    { cause, retryable: true },
  );
}
