import pg from 'pg';
import { SluiceError } from '../../core/errors.js';
import type { EngineConnection } from '../create-engine-adapter.js';
import type {
  ColumnInfo,
  EngineAdapter,
  EngineSession,
  QueryOptions,
  QueryResult,
  TableName,
} from '../engine-adapter.js';
import { describeTable, listTables, tableExists } from './postgres-catalog.js';
import { cancelledError, isNetworkFailure, unreachableError } from './postgres-errors.js';
import {
  POSTGRES_MAX_IDENTIFIER_BYTES,
  quotePostgresIdentifier,
  quotePostgresTable,
} from './postgres-quoting.js';
import { type PostgresContext, PostgresSession } from './postgres-session.js';
import {
  clientConfig,
  POOL_SIZE,
  type PostgresSettings,
  readPostgresSettings,
  sslAttempts,
} from './postgres-settings.js';
import { TypeNameCache } from './postgres-types.js';
import { POSTGRES_TYPE_PARSERS } from './postgres-values.js';

/** SQLSTATEs of a concurrent CREATE SCHEMA IF NOT EXISTS that lost the race. */
const SCHEMA_RACE_STATES = new Set(['23505', '42P06']);

/**
 * Opens a pool of up to 5 connections (sluice.yaml has no pool size setting yet) for a
 * PostgreSQL gateway and checks that the server answers; throws `engine_unreachable` otherwise.
 */
export async function openPostgresAdapter(connection: EngineConnection): Promise<EngineAdapter> {
  const settings = readPostgresSettings(connection);
  const { pool, config } = await openPool(settings);
  return new PostgresAdapter(pool, {
    settings,
    clientConfig: config,
    typeNames: new TypeNameCache(),
  });
}

/**
 * Tries each TLS attempt of the sslmode in turn; the first pool whose ping works is kept. When
 * all fail, the last failure is reported: it is the fallback's, so the more telling one.
 */
async function openPool(settings: PostgresSettings) {
  let lastError: unknown;
  for (const ssl of sslAttempts(settings.sslMode)) {
    const config = clientConfig(settings, ssl, POSTGRES_TYPE_PARSERS);
    const pool = createPool(config);
    try {
      await pool.query('SELECT 1');
      return { pool, config };
    } catch (error) {
      lastError = error;
      await pool.end().catch(() => undefined);
      if (isNetworkFailure(error)) break;
    }
  }
  throw unreachableError(lastError, settings);
}

/**
 * A pool whose callers wait for a free connection as long as it takes, while each new
 * connection still gives up after the connect timeout (node-postgres uses one setting for both,
 * hence the client class that keeps its own).
 */
function createPool(config: pg.ClientConfig): pg.Pool {
  const TimedClient = class extends pg.Client {
    constructor() {
      super(config);
    }
  };
  const pool = new pg.Pool({
    ...config,
    max: POOL_SIZE,
    connectionTimeoutMillis: 0,
    allowExitOnIdle: true,
    Client: TimedClient,
  });
  // An idle connection that fails is already removed by the pool; the next checkout opens anew.
  pool.on('error', () => undefined);
  return pool;
}

/** The EngineAdapter of one PostgreSQL gateway. */
class PostgresAdapter implements EngineAdapter {
  readonly type = 'postgres' as const;
  readonly dialect = 'postgres' as const;
  readonly maxIdentifierBytes = POSTGRES_MAX_IDENTIFIER_BYTES;
  readonly #pool: pg.Pool;
  readonly #context: PostgresContext;
  #isClosed = false;

  constructor(pool: pg.Pool, context: PostgresContext) {
    this.#pool = pool;
    this.#context = context;
  }

  quoteIdentifier(identifier: string): string {
    return quotePostgresIdentifier(identifier);
  }

  quoteTable(table: TableName): string {
    return quotePostgresTable(table);
  }

  query(sql: string, params?: readonly unknown[], options?: QueryOptions): Promise<QueryResult> {
    return this.#withSession(options, (session) => session.query(sql, params, options));
  }

  execute(sql: string, params?: readonly unknown[], options?: QueryOptions): Promise<number> {
    return this.#withSession(options, (session) => session.execute(sql, params, options));
  }

  bulkLoad(
    table: TableName,
    columns: readonly string[],
    rows: Iterable<readonly unknown[]> | AsyncIterable<readonly unknown[]>,
    options?: QueryOptions,
  ): Promise<number> {
    return this.#withSession(options, (session) => session.bulkLoad(table, columns, rows, options));
  }

  loadCsvFile(
    table: TableName,
    path: string,
    columns: readonly string[],
    options?: QueryOptions,
  ): Promise<number> {
    return this.#withSession(options, (session) =>
      session.loadCsvFile(table, path, columns, options),
    );
  }

  async transaction<T>(
    work: (session: EngineSession) => Promise<T>,
    options?: QueryOptions,
  ): Promise<T> {
    const signal = options?.signal;
    if (signal?.aborted) throw cancelledError(this.#context.settings);

    const session = new PostgresSession(await this.#checkout(), this.#context, signal);
    try {
      await session.begin();
      try {
        const result = await work(session);
        await session.commit();
        return result;
      } catch (error) {
        await session.rollback();
        throw signal?.aborted && !isCancellation(error)
          ? cancelledError(this.#context.settings, error)
          : error;
      }
    } finally {
      session.release();
    }
  }

  async createSchema(schema: string): Promise<void> {
    try {
      await this.execute(`CREATE SCHEMA IF NOT EXISTS ${quotePostgresIdentifier(schema)}`);
    } catch (error) {
      if (!isSchemaRace(error)) throw error;
    }
  }

  tableExists(table: TableName): Promise<boolean> {
    return tableExists(this, table);
  }

  describeTable(table: TableName): Promise<readonly ColumnInfo[] | undefined> {
    return describeTable(this, table);
  }

  listTables(schema: string): Promise<readonly string[]> {
    return listTables(this, schema);
  }

  async ping(): Promise<void> {
    try {
      await this.query('SELECT 1');
    } catch (error) {
      if (error instanceof SluiceError && error.code === 'engine_unreachable') throw error;
      throw unreachableError(error, this.#context.settings);
    }
  }

  async close(): Promise<void> {
    if (this.#isClosed) return;
    this.#isClosed = true;
    await this.#pool.end();
  }

  /** Runs `work` on a connection of its own, returned to the pool (or closed) afterwards. */
  async #withSession<T>(
    options: QueryOptions | undefined,
    work: (session: PostgresSession) => Promise<T>,
  ): Promise<T> {
    if (options?.signal?.aborted) throw cancelledError(this.#context.settings);

    const session = new PostgresSession(await this.#checkout(), this.#context);
    try {
      return await work(session);
    } finally {
      session.release();
    }
  }

  async #checkout(): Promise<pg.PoolClient> {
    if (this.#isClosed) throw closedError(this.#context.settings.gateway);
    try {
      return await this.#pool.connect();
    } catch (error) {
      throw unreachableError(error, this.#context.settings);
    }
  }
}

function isCancellation(error: unknown): boolean {
  return error instanceof SluiceError && error.code === 'query_cancelled';
}

function isSchemaRace(error: unknown): boolean {
  const state = (error as { cause?: { code?: unknown } }).cause?.code;
  return typeof state === 'string' && SCHEMA_RACE_STATES.has(state);
}

function closedError(gateway: string): SluiceError {
  return new SluiceError(
    'engine_error',
    `The connection pool of gateway '${gateway}' is closed; open the adapter again to use it`,
  );
}
