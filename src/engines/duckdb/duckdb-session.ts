/**
 * Statements, bulk loads and CSV loads on DuckDB connections. A session does not own a
 * connection: it asks its lease for one per call, which is a pooled connection for the adapter's
 * own calls and the transaction's connection inside a transaction.
 */

import { resolve } from 'node:path';
import type { DuckDBConnection, DuckDBResultReader } from '@duckdb/node-api';
import { SluiceError } from '../../core/errors.js';
import { quoteIdentifier } from '../../sql/dialect.js';
import type {
  ColumnInfo,
  EngineSession,
  QueryOptions,
  QueryResult,
  TableName,
} from '../engine-adapter.js';
import { appendRows } from './duckdb-appender.js';
import { eitherSignal, runInterruptible, throwIfCancelled } from './duckdb-cancel.js';
import { describeTable, type StatementReader } from './duckdb-catalog.js';
import { csvInsertStatement } from './duckdb-csv.js';
import { toSluiceError } from './duckdb-errors.js';
import { bindParameters, toJsValue, typeName } from './duckdb-values.js';

/** Runs `work` on a connection the session may use, and gives the connection back after. */
export type ConnectionLease = <T>(work: (connection: DuckDBConnection) => Promise<T>) => Promise<T>;

// Transactions run through `transaction()`, which owns BEGIN, COMMIT and ROLLBACK; a statement
// of its own would leave a pooled connection inside a transaction nobody ends.
const TRANSACTION_CONTROL = /^\s*(BEGIN|START\s+TRANSACTION|COMMIT|ROLLBACK|ABORT|END)\b/i;

/** A session whose calls use connections from `lease`, cancelled by `sessionSignal` too. */
export function createDuckDbSession(
  lease: ConnectionLease,
  sessionSignal?: AbortSignal,
): EngineSession {
  const signalOf = (options: QueryOptions | undefined) => {
    const signal = eitherSignal(sessionSignal, options?.signal);
    throwIfCancelled(signal);
    return signal;
  };

  return {
    query: async (sql, params = [], options) => {
      const signal = signalOf(options);
      refuseTransactionControl(sql);
      const reader = await lease((connection) => runStatement(connection, sql, params, signal));
      return toResult(reader);
    },
    execute: async (sql, params = [], options) => {
      const signal = signalOf(options);
      refuseTransactionControl(sql);
      const reader = await lease((connection) => runStatement(connection, sql, params, signal));
      return reader.rowsChanged;
    },
    bulkLoad: async (table, columns, rows, options) => {
      const signal = signalOf(options);
      return lease((connection) =>
        runInterruptible(connection, signal, async () => {
          const tableColumns = await requireColumns(readerOn(connection, signal), table);
          return appendRows(connection, table, tableColumns, columns, rows, signal);
        }),
      );
    },
    loadCsvFile: async (table, path, columns, options) => {
      const signal = signalOf(options);
      return lease(async (connection) => {
        const tableColumns = await requireColumns(readerOn(connection, signal), table);
        const quotedTable = quoteDuckDbTable(table);
        const sql = csvInsertStatement(table, quotedTable, resolve(path), tableColumns, columns);
        const reader = await runStatement(connection, sql, [], signal);
        return reader.rowsChanged;
      });
    },
  };
}

/** Runs SQL (one or more statements; the last one's result is read) with `$n` parameters. */
export async function runStatement(
  connection: DuckDBConnection,
  sql: string,
  params: readonly unknown[],
  signal: AbortSignal | undefined,
): Promise<DuckDBResultReader> {
  const bound = bindParameters(params);
  try {
    return await runInterruptible(connection, signal, () =>
      connection.runAndReadAll(sql, bound.values, bound.types),
    );
  } catch (error) {
    throw toSluiceError(error, { params });
  }
}

/** Reads statements' results on one connection, for catalog lookups. */
export function readerOn(connection: DuckDBConnection, signal?: AbortSignal): StatementReader {
  return (sql, params) => runStatement(connection, sql, params, signal).then(toResult);
}

/** `"schema"."name"`. */
export function quoteDuckDbTable(table: TableName): string {
  return `${quoteIdentifier('duckdb', table.schema)}.${quoteIdentifier('duckdb', table.name)}`;
}

function toResult(reader: DuckDBResultReader): QueryResult {
  const names = reader.deduplicatedColumnNames();
  const columns = names.map((name, index) => ({
    name,
    type: typeName(reader.columnType(index)),
    isNullable: true,
  }));
  return { columns, rows: reader.convertRowObjects(toJsValue) };
}

async function requireColumns(
  read: StatementReader,
  table: TableName,
): Promise<readonly ColumnInfo[]> {
  const columns = await describeTable(read, table);
  if (columns !== undefined) return columns;
  throw new SluiceError(
    'table_missing',
    `Table '${table.schema}.${table.name}' does not exist; create it before loading rows into it`,
  );
}

function refuseTransactionControl(sql: string): void {
  const keyword = TRANSACTION_CONTROL.exec(sql)?.[1];
  if (keyword === undefined) return;
  throw new SluiceError(
    'internal',
    `Statements may not start with ${keyword.toUpperCase()}; run the work inside ` +
      'adapter.transaction(), which begins, commits and rolls back',
  );
}
