import type pg from 'pg';
import { SluiceError } from '../../core/errors.js';
import type { EngineSession, QueryOptions, QueryResult, TableName } from '../engine-adapter.js';
import { backendPid, cancelBackend } from './postgres-cancel.js';
import { type CopyTarget, copyCsvFile, copyRows } from './postgres-copy.js';
import { cancelledError, type FailedStatement, toSluiceError } from './postgres-errors.js';
import { quotePostgresIdentifier, quotePostgresTable } from './postgres-quoting.js';
import type { PostgresSettings } from './postgres-settings.js';
import type { TypeNameCache, TypeReference } from './postgres-types.js';
import { toPostgresParams } from './postgres-values.js';

/** What every session of one adapter shares. */
export type PostgresContext = {
  readonly settings: PostgresSettings;
  /** Settings for the short-lived connections that cancel statements. */
  readonly clientConfig: pg.ClientConfig;
  readonly typeNames: TypeNameCache;
};

type Work<T> = (client: pg.PoolClient, signal: AbortSignal | undefined) => Promise<T>;

/**
 * Statements on one pooled connection, run one after another. Aborting a statement's signal
 * asks the server to cancel it; the connection is then closed on release rather than reused,
 * so a late cancel can never hit someone else's statement.
 */
export class PostgresSession implements EngineSession {
  readonly #client: pg.PoolClient;
  readonly #context: PostgresContext;
  /** The transaction's signal, which every statement of the session also obeys. */
  readonly #sessionSignal: AbortSignal | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #isBroken = false;
  #isReleased = false;
  readonly #onClientError = () => {
    this.#isBroken = true;
  };

  constructor(client: pg.PoolClient, context: PostgresContext, signal?: AbortSignal) {
    this.#client = client;
    this.#context = context;
    this.#sessionSignal = signal;
    client.on('error', this.#onClientError);
  }

  query(sql: string, params?: readonly unknown[], options?: QueryOptions): Promise<QueryResult> {
    return this.#serially(this.#signal(options), { sql, params }, async (client) => {
      const result = lastResult(await client.query(sql, toPostgresParams(params)));
      return { columns: await this.#columns(client, result.fields), rows: result.rows };
    });
  }

  execute(sql: string, params?: readonly unknown[], options?: QueryOptions): Promise<number> {
    return this.#serially(this.#signal(options), { sql, params }, async (client) => {
      const outcome: pg.QueryResult | pg.QueryResult[] = await client.query(
        sql,
        toPostgresParams(params),
      );
      const results = Array.isArray(outcome) ? outcome : [outcome];
      return results.reduce((total, result) => total + (result.rowCount ?? 0), 0);
    });
  }

  bulkLoad(
    table: TableName,
    columns: readonly string[],
    rows: Iterable<readonly unknown[]> | AsyncIterable<readonly unknown[]>,
    options?: QueryOptions,
  ): Promise<number> {
    return this.#serially(this.#signal(options), {}, (client, signal) =>
      copyRows(client, copyTarget(table, columns), rows, signal),
    );
  }

  loadCsvFile(
    table: TableName,
    path: string,
    columns: readonly string[],
    options?: QueryOptions,
  ): Promise<number> {
    return this.#serially(this.#signal(options), {}, (client, signal) =>
      copyCsvFile(client, copyTarget(table, columns), path, signal),
    );
  }

  /** Starts the transaction. */
  async begin(): Promise<void> {
    await this.execute('BEGIN');
  }

  /**
   * Commits, unless the transaction's signal aborted. PostgreSQL answers COMMIT of a failed
   * transaction with ROLLBACK instead of an error; that is reported as a failure here.
   */
  async commit(): Promise<void> {
    if (this.#sessionSignal?.aborted) throw cancelledError(this.#context.settings);

    const result = await this.#serially(undefined, {}, (client) => client.query('COMMIT'));
    if (result.command === 'ROLLBACK') {
      throw new SluiceError(
        'engine_error',
        `The transaction on gateway '${this.#context.settings.gateway}' was rolled back ` +
          'because one of its statements failed; nothing it wrote was kept',
      );
    }
  }

  /** Rolls back; a connection that cannot even do that is closed on release. */
  async rollback(): Promise<void> {
    await this.#serially(undefined, {}, (client) => client.query('ROLLBACK')).catch(() => {
      this.#isBroken = true;
    });
  }

  /** Returns the connection to the pool, or closes it when it may be unusable. */
  release(): void {
    if (this.#isReleased) return;
    this.#isReleased = true;
    this.#client.removeListener('error', this.#onClientError);
    this.#client.release(this.#isBroken);
  }

  #signal(options: QueryOptions | undefined): AbortSignal | undefined {
    const signals = [this.#sessionSignal, options?.signal].filter((s) => s !== undefined);
    return signals.length <= 1 ? signals[0] : AbortSignal.any(signals);
  }

  #serially<T>(
    signal: AbortSignal | undefined,
    statement: FailedStatement,
    work: Work<T>,
  ): Promise<T> {
    const run = this.#queue.then(() => this.#guarded(signal, statement, work));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #guarded<T>(signal: AbortSignal | undefined, statement: FailedStatement, work: Work<T>) {
    const { settings } = this.#context;
    if (this.#isReleased) throw endedError(settings.gateway);
    if (signal?.aborted) throw cancelledError(settings);

    const stopWatching = this.#cancelOnAbort(signal);
    try {
      return await work(this.#client, signal);
    } catch (error) {
      if (signal?.aborted) throw cancelledError(settings, error);
      throw toSluiceError(error, settings, statement);
    } finally {
      await stopWatching();
    }
  }

  /** Cancels the running statement on the server when `signal` aborts; resolves when done. */
  #cancelOnAbort(signal: AbortSignal | undefined): () => Promise<void> {
    if (signal === undefined) return async () => undefined;

    let cancelling: Promise<void> | undefined;
    const onAbort = () => {
      this.#isBroken = true;
      cancelling = this.#cancel();
    };
    signal.addEventListener('abort', onAbort, { once: true });
    return async () => {
      signal.removeEventListener('abort', onAbort);
      await cancelling;
    };
  }

  /** Asks the server to cancel; when that is impossible, drops the connection instead. */
  async #cancel(): Promise<void> {
    const pid = backendPid(this.#client);
    const isSignalled = pid !== undefined && (await cancelBackend(this.#context.clientConfig, pid));
    if (!isSignalled) await this.#client.end().catch(() => undefined);
  }

  async #columns(client: pg.PoolClient, fields: readonly pg.FieldDef[]) {
    const references = fields.map((field) => ({
      oid: field.dataTypeID,
      modifier: field.dataTypeModifier,
    }));
    const types = await this.#context.typeNames.resolve(references, (missing) =>
      formatTypes(client, missing),
    );
    return fields.map((field, index) => ({
      name: field.name,
      type: types[index] ?? 'UNKNOWN',
      isNullable: true,
    }));
  }
}

async function formatTypes(client: pg.PoolClient, references: readonly TypeReference[]) {
  const result = await client.query<{ name: string }>(
    'SELECT format_type(t.oid, t.modifier) AS name ' +
      'FROM unnest($1::oid[], $2::int4[]) WITH ORDINALITY AS t(oid, modifier, position) ' +
      'ORDER BY t.position',
    [references.map((r) => r.oid), references.map((r) => r.modifier)],
  );
  return result.rows.map((row) => row.name);
}

/** A multi-statement text yields one result per statement; the last one is the answer. */
function lastResult(outcome: pg.QueryResult | pg.QueryResult[]): pg.QueryResult {
  if (!Array.isArray(outcome)) return outcome;
  const last = outcome.at(-1);
  return last ?? { command: '', rowCount: 0, oid: 0, fields: [], rows: [] };
}

function copyTarget(table: TableName, columns: readonly string[]): CopyTarget {
  return {
    quotedTable: quotePostgresTable(table),
    quotedColumns: columns.map(quotePostgresIdentifier),
  };
}

function endedError(gateway: string): SluiceError {
  return new SluiceError(
    'engine_error',
    `A statement was sent to a finished transaction on gateway '${gateway}'; ` +
      'run statements only while the transaction callback is running and await them',
  );
}
