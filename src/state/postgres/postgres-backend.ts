import { Kysely, PostgresDialect, sql } from 'kysely';
import type pg from 'pg';
import type { StateDatabase } from '../state-store.js';
import type { StateLocation } from '../state-types.js';
import type { BackendConnection, MigrationSession } from '../store-internals.js';
import { tryPostgresAdvisoryLock } from './postgres-advisory-lock.js';
import { listenOnChannel } from './postgres-listener.js';
import { readPostgresPayloadRows } from './postgres-payload-reader.js';
import { createStatePool, preparePostgres, unreachableState } from './postgres-pool.js';
import { preparingPool } from './prepared-statements.js';

/**
 * The PostgreSQL backend: a pool whose connections all use the store's schema. Several
 * Schedulers may share the database; migrations are serialised by an advisory lock.
 */

type PostgresLocation = Extract<StateLocation, { backend: 'postgres' }>;

/** Connections of one store's pool; sluice.yaml has no setting for it yet. */
export const STATE_POOL_SIZE = 10;

/**
 * The first half of the migration lock's key, fixed for Sluice; the second half is a hash of
 * the schema name, so stores in different schemas of one database do not wait for each other.
 */
const MIGRATION_LOCK_CLASS = 0x51_c3_00_01;

/** Opens the pool, checks that the server answers, and creates the schema when missing. */
export async function openPostgresBackend(location: PostgresLocation): Promise<BackendConnection> {
  const pool = createStatePool(location, STATE_POOL_SIZE);
  try {
    await preparePostgres(pool, location);
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw error;
  }

  const db = new Kysely<StateDatabase>({
    dialect: new PostgresDialect({ pool: preparingPool(pool) }),
  });
  return {
    db,
    withMigrationSession: (work) => withPostgresMigrationSession(location, work),
    writeTransaction: (work) => db.transaction().execute(work),
    rekeyFile: async () => undefined,
    fileKeyId: () => undefined,
    readPayloadRowBatches: (query) => readPostgresPayloadRows(pool, query),
    listen: (channel, handlers) => listenOnChannel(location, channel, handlers),
    tryAdvisoryLock: (name) => tryPostgresAdvisoryLock(location, name),
    close: () => closePostgres(db, pool),
  };
}

/**
 * Runs `work` on a dedicated connection that holds the advisory lock for the whole run. The
 * connection is closed afterwards, which also releases the lock if unlocking failed.
 */
async function withPostgresMigrationSession<T>(
  location: PostgresLocation,
  work: (session: MigrationSession) => Promise<T>,
): Promise<T> {
  const pool = createStatePool(location, 1);
  const db = new Kysely<StateDatabase>({ dialect: new PostgresDialect({ pool }) });
  try {
    return await db.connection().execute(async (connection) => {
      await lock(connection, location);
      try {
        return await work({ transaction: (inner) => connection.transaction().execute(inner) });
      } finally {
        await sql`SELECT pg_advisory_unlock(${MIGRATION_LOCK_CLASS}, hashtext(${location.schema}))`
          .execute(connection)
          .catch(() => undefined);
      }
    });
  } finally {
    await closePostgres(db, pool);
  }
}

/** Ends the pool even when Kysely never used it (Kysely only ends what it initialised). */
async function closePostgres(db: Kysely<StateDatabase>, pool: pg.Pool): Promise<void> {
  await db.destroy();
  if (!pool.ended) await pool.end();
}

async function lock(connection: Kysely<StateDatabase>, location: PostgresLocation): Promise<void> {
  try {
    const lockKey = sql`${MIGRATION_LOCK_CLASS}, hashtext(${location.schema})`;
    await sql`SELECT pg_advisory_lock(${lockKey})`.execute(connection);
  } catch (error) {
    throw unreachableState(error, location);
  }
}
