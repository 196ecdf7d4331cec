import type { EngineAdapter, EngineSession, QueryResult } from '../../engines/engine-adapter.js';
import type { MaterializeRequest } from './materialize.js';
import { lockIntervalOnPostgres } from './postgres-interval-lock.js';

/** What a strategy needs to write inside the open transaction. */
export type WriteContext = {
  readonly adapter: EngineAdapter;
  /** The transaction's session: every statement of one materialisation runs on it. */
  readonly session: EngineSession;
  readonly request: MaterializeRequest;
  /** The rendered query, known to be present. */
  readonly query: string;
  /** The target table, quoted for the engine. */
  readonly table: string;
};

/**
 * Opens the write transaction of a materialisation and runs the model's pre-statements in it
 * before `work`. The schema is created before, and apart from, the transaction: created inside
 * it, its catalogue row would stay locked until commit, and on PostgreSQL every other model
 * writing to the same new schema would wait for that commit and then fail. An empty schema may
 * outlive a failed first run.
 *
 * On PostgreSQL the transaction first takes an advisory lock on the table and interval, held to
 * its end. Two attempts of one task may write at once: an Executor paused past its lease can
 * resume after another took the task over, and its transaction can commit before it hears that
 * its lease is lost. Under READ COMMITTED neither attempt's delete sees the other's uncommitted
 * rows, so without the lock both sets of rows would stay. With it, the later attempt ends the
 * earlier one's session, or waits for its commit, and its delete then removes any rows the
 * earlier one committed: the interval holds one set. Writes of other intervals do not wait.
 * (DuckDB admits one writing process, whose own transactions conflict rather than interleave.)
 */
export async function inWriteTransaction<T>(
  adapter: EngineAdapter,
  request: MaterializeRequest,
  query: string,
  work: (context: WriteContext) => Promise<T>,
): Promise<T> {
  const { target, rendered, signal } = request;
  if (target.schema !== '') await adapter.createSchema(target.schema);
  return adapter.transaction(
    async (session) => {
      const context: WriteContext = {
        adapter,
        session,
        request,
        query,
        table: adapter.quoteTable(target),
      };
      if (adapter.type === 'postgres') await lockInterval(context);
      for (const statement of rendered.preStatements) await run(context, statement);
      return work(context);
    },
    { signal },
  );
}

/** Holds the lock of the table and interval to the transaction's end. */
async function lockInterval(context: WriteContext): Promise<void> {
  const { start, end } = context.request.interval;
  const key = `${context.table} ${start.toISOString()} ${end.toISOString()}`;
  await lockIntervalOnPostgres(context.session, key, { signal: context.request.signal });
}

/** Runs a statement in the transaction, cancelled by the request's signal; returns rows changed. */
export function run(
  context: WriteContext,
  sql: string,
  params: readonly unknown[] = [],
): Promise<number> {
  return context.session.execute(sql, params, { signal: context.request.signal });
}

/** Runs a query in the transaction, cancelled with the request's signal. */
export function select(
  context: WriteContext,
  sql: string,
  params: readonly unknown[] = [],
): Promise<QueryResult> {
  return context.session.query(sql, params, { signal: context.request.signal });
}

/**
 * The model's query in parentheses, to be used as a derived table. The closing parenthesis goes on
 * its own line so that a query ending in a `--` comment cannot swallow it.
 */
export function parenthesisedQuery(context: WriteContext): string {
  return `(${context.query}\n)`;
}

/** Quotes column names and qualifies them with a table alias when one is given. */
export function columnList(
  context: WriteContext,
  columns: readonly string[],
  alias?: string,
): string {
  const prefix = alias === undefined ? '' : `${alias}.`;
  return columns.map((column) => `${prefix}${context.adapter.quoteIdentifier(column)}`).join(', ');
}

/** `a.k1 = b.k1 AND a.k2 = b.k2` for the key columns. */
export function keysEqual(
  context: WriteContext,
  key: readonly string[],
  left: string,
  right: string,
): string {
  return key
    .map((column) => {
      const quoted = context.adapter.quoteIdentifier(column);
      return `${left}.${quoted} = ${right}.${quoted}`;
    })
    .join(' AND ');
}

/** An instant as a UTC timestamp literal both engines cast to TIMESTAMP without a time zone. */
export function timestampText(instant: Date): string {
  return instant.toISOString().replace('T', ' ').replace('Z', '');
}
