import type { Dialect } from '../core/model.js';
import type { TableName } from '../core/table-resolver.js';
import type { EngineType } from '../project/project-config.js';

/**
 * The one interface through which Sluice talks to a SQL engine. Each engine is a folder
 * (`duckdb/`, `postgres/`) implementing it; materialisation, the executor's task runner and the
 * CLI use nothing else. Every method that touches the engine turns the engine's failures into a
 * SluiceError (code `engine_error`, `engine_unreachable`, `engine_type_rejected`,
 * `table_missing` or `query_cancelled`) whose message never contains bound parameters,
 * passwords or connection strings.
 */

export type { TableName } from '../core/table-resolver.js';

/** A column of a table or of a query result; `type` is the engine's own type name, upper case. */
export type ColumnInfo = {
  readonly name: string;
  readonly type: string;
  readonly isNullable: boolean;
};

/** One result row by column name. Values are JavaScript values (see each adapter for mapping). */
export type Row = Readonly<Record<string, unknown>>;

export type QueryResult = {
  readonly columns: readonly ColumnInfo[];
  readonly rows: readonly Row[];
};

export type QueryOptions = {
  /** Aborting the signal cancels the running statement; the call rejects with `query_cancelled`. */
  readonly signal?: AbortSignal;
};

/** Statements on one connection, run in order. Parameters are written `$1`, `$2`, ... */
export type EngineSession = {
  query(sql: string, params?: readonly unknown[], options?: QueryOptions): Promise<QueryResult>;
  /** Runs a statement that returns no rows; resolves to the number of rows it changed, or 0. */
  execute(sql: string, params?: readonly unknown[], options?: QueryOptions): Promise<number>;
  /** Appends rows to an existing table (DuckDB appender, PostgreSQL `COPY ... FROM STDIN`). */
  bulkLoad(
    table: TableName,
    columns: readonly string[],
    rows: Iterable<readonly unknown[]> | AsyncIterable<readonly unknown[]>,
    options?: QueryOptions,
  ): Promise<number>;
  /**
   * Appends the rows of a CSV file with a header row to an existing table with the engine's own
   * loader (DuckDB `read_csv`, PostgreSQL `COPY ... FROM STDIN` fed from the file). `columns` are
   * the table's columns in the order of the file's columns.
   */
  loadCsvFile(
    table: TableName,
    path: string,
    columns: readonly string[],
    options?: QueryOptions,
  ): Promise<number>;
};

/** A connection pool (or embedded database) for one gateway. */
export type EngineAdapter = EngineSession & {
  readonly type: EngineType;
  readonly dialect: Dialect;
  /** The longest identifier the engine keeps whole, in UTF-8 bytes (Infinity when unlimited). */
  readonly maxIdentifierBytes: number;
  quoteIdentifier(identifier: string): string;
  quoteTable(table: TableName): string;
  /**
   * Runs `work` on one connection inside one transaction: committed when it resolves, rolled
   * back when it rejects or the signal aborts. Nothing it wrote is visible to others before commit.
   */
  transaction<T>(work: (session: EngineSession) => Promise<T>, options?: QueryOptions): Promise<T>;
  /** Creates a schema unless it exists. */
  createSchema(schema: string): Promise<void>;
  tableExists(table: TableName): Promise<boolean>;
  /** The table's columns in order, or undefined when there is no such table or view. */
  describeTable(table: TableName): Promise<readonly ColumnInfo[] | undefined>;
  /** Names of the tables and views in a schema, sorted. */
  listTables(schema: string): Promise<readonly string[]>;
  /** Checks that the engine answers; throws `engine_unreachable` otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
};
