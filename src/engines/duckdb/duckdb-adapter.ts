/**
 * The DuckDB engine adapter: an embedded database opened from the gateway's `database` setting,
 * with a connection per statement or transaction (see duckdb-connection-pool.ts). Every connection
 * uses the database as catalog `sluice_db` (see duckdb-database.ts) and runs with `TimeZone` set to
 * UTC, so casts between TIMESTAMPTZ, TIMESTAMP and DATE do not depend on the machine. Values
 * convert as described in duckdb-values.ts.
 *
 * Connection state set by a statement (`SET`, temporary tables, `USE`) lasts only for that
 * statement's connection: inside a transaction it holds for the whole transaction, outside one a
 * later statement may run on another connection.
 */

import type { DuckDBConnection } from '@duckdb/node-api';
import { SluiceError } from '../../core/errors.js';
import { MAX_IDENTIFIER_BYTES, quoteIdentifier } from '../../sql/dialect.js';
import type { EngineConnection } from '../create-engine-adapter.js';
import type { EngineAdapter, EngineSession, QueryOptions } from '../engine-adapter.js';
import { throwIfCancelled } from './duckdb-cancel.js';
import { describeTable, listTables, tableExists } from './duckdb-catalog.js';
import { type ConnectionPool, createConnectionPool } from './duckdb-connection-pool.js';
import { DATABASE_CATALOG, openDuckDbDatabase, readDuckDbSettings } from './duckdb-database.js';
import { cancelledError } from './duckdb-errors.js';
import {
  type ConnectionLease,
  createDuckDbSession,
  quoteDuckDbTable,
  readerOn,
  runStatement,
} from './duckdb-session.js';

/** Opens the gateway's DuckDB database; throws `engine_unreachable` when it cannot be opened. */
export async function openDuckDbAdapter(connection: EngineConnection): Promise<EngineAdapter> {
  const settings = readDuckDbSettings(connection);
  const database = await openDuckDbDatabase(connection.gateway, settings);
  const pool = createConnectionPool(connection.gateway, database.instance, prepareConnection);

  let isClosed = false;
  const close = () => {
    if (isClosed) return;
    isClosed = true;
    pool.close();
    database.release();
  };
  return assembleAdapter(connection.gateway, pool, close);
}

function assembleAdapter(gateway: string, pool: ConnectionPool, close: () => void): EngineAdapter {
  const pooled = pooledLease(pool);
  const session = createDuckDbSession(pooled);
  const read = (sql: string, params: readonly unknown[]) =>
    pooled((leased) => readerOn(leased)(sql, params));
  const transaction = <T>(work: (session: EngineSession) => Promise<T>, options?: QueryOptions) =>
    runTransaction(pool, work, options?.signal);

  return {
    type: 'duckdb',
    dialect: 'duckdb',
    maxIdentifierBytes: MAX_IDENTIFIER_BYTES.duckdb,
    quoteIdentifier: (identifier) => quoteIdentifier('duckdb', identifier),
    quoteTable: quoteDuckDbTable,
    ...session,
    // One transaction around the appender, so a load that fails part-way leaves nothing behind.
    bulkLoad: (table, columns, rows, options) =>
      transaction((inner) => inner.bulkLoad(table, columns, rows), options),
    transaction,
    createSchema: (schema) => createSchema(session, schema),
    tableExists: (table) => tableExists(read, table),
    describeTable: (table) => describeTable(read, table),
    listTables: (schema) => listTables(read, schema),
    ping: () => ping(gateway, session),
    close: async () => close(),
  };
}

/** How often creating a schema is tried when another transaction creates it at the same time. */
const SCHEMA_ATTEMPTS = 5;

/**
 * Creates a schema unless it exists. Two connections creating the same new schema at once
 * conflict in DuckDB ("Catalog write-write conflict"), even with IF NOT EXISTS; the loser tries
 * again, and then finds the schema the winner committed.
 */
async function createSchema(session: EngineSession, schema: string): Promise<void> {
  const sql = `CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier('duckdb', schema)}`;
  for (let attempt = 1; ; attempt++) {
    try {
      await session.execute(sql);
      return;
    } catch (error) {
      const isConflict = error instanceof SluiceError && error.retryable;
      if (!isConflict || attempt >= SCHEMA_ATTEMPTS) throw error;
      await new Promise((resolve) => setTimeout(resolve, 5 * attempt));
    }
  }
}

async function ping(gateway: string, session: EngineSession): Promise<void> {
  try {
    await session.query('SELECT 1');
  } catch (error) {
    const message = `The DuckDB database of gateway '${gateway}' does not answer`;
    throw new SluiceError('engine_unreachable', message, { cause: error });
  }
}

async function prepareConnection(connection: DuckDBConnection): Promise<void> {
  const catalog = quoteIdentifier('duckdb', DATABASE_CATALOG);
  await runStatement(connection, `SET TimeZone = 'UTC'; USE ${catalog}`, [], undefined);
}

function pooledLease(pool: ConnectionPool): ConnectionLease {
  return async (work) => {
    const connection = await pool.acquire();
    try {
      return await work(connection);
    } finally {
      pool.release(connection);
    }
  };
}

/**
 * Runs `work` inside BEGIN ... COMMIT on a connection of its own. The session's calls are queued,
 * so work that starts several at once still runs them one after another on that connection.
 */
async function runTransaction<T>(
  pool: ConnectionPool,
  work: (session: EngineSession) => Promise<T>,
  signal: AbortSignal | undefined,
): Promise<T> {
  throwIfCancelled(signal);
  const connection = await pool.acquire();
  const queue = serialLease(connection);
  let isClean = false;
  try {
    await runStatement(connection, 'BEGIN TRANSACTION', [], signal);
    const result = await work(createDuckDbSession(queue.lease, signal));
    throwIfCancelled(signal);
    await queue.finish(() => runStatement(connection, 'COMMIT', [], undefined));
    isClean = true;
    return result;
  } catch (error) {
    isClean = await queue.finish(() => rollBack(connection));
    throw signal?.aborted === true ? cancelledError() : error;
  } finally {
    if (isClean) pool.release(connection);
    else pool.discard(connection);
  }
}

/** Rolls back whatever is open; false when the connection's state is no longer known. */
async function rollBack(connection: DuckDBConnection): Promise<boolean> {
  try {
    await connection.run('ROLLBACK');
    return true;
  } catch (error) {
    // A failed COMMIT, or BEGIN that never ran, leaves no transaction to roll back.
    return error instanceof Error && /no transaction is active/i.test(error.message);
  }
}

function serialLease(connection: DuckDBConnection) {
  let tail: Promise<unknown> = Promise.resolve();
  let hasEnded = false;
  const enqueue = <T>(work: () => Promise<T>): Promise<T> => {
    const run = tail.then(work);
    tail = run.catch(() => undefined);
    return run;
  };
  const lease: ConnectionLease = (work) => {
    if (!hasEnded) return enqueue(() => work(connection));
    const message = 'The transaction has ended; run statements inside its work function';
    return Promise.reject(new SluiceError('internal', message));
  };
  return {
    lease,
    /** Runs the last statement after every queued call and refuses calls from then on. */
    finish: <T>(last: () => Promise<T>) => {
      hasEnded = true;
      return enqueue(last);
    },
  };
}
