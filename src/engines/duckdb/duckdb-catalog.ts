/**
 * Schema and table introspection through DuckDB's information_schema, limited to the database the
 * adapter opened. DuckDB matches identifiers without regard to case, even quoted ones, so these
 * lookups do too.
 */

import type { ColumnInfo, QueryResult, TableName } from '../engine-adapter.js';

/** Runs one statement with parameters on whichever connection the caller is using. */
export type StatementReader = (sql: string, params: readonly unknown[]) => Promise<QueryResult>;

const IN_TABLE = `table_catalog = current_database()
  AND lower(table_schema) = lower($1) AND lower(table_name) = lower($2)`;

/** The table's columns in order, or undefined when there is no such table or view. */
export async function describeTable(
  read: StatementReader,
  table: TableName,
): Promise<readonly ColumnInfo[] | undefined> {
  const result = await read(
    `SELECT column_name, data_type, is_nullable FROM information_schema.columns
     WHERE ${IN_TABLE} ORDER BY ordinal_position`,
    [table.schema, table.name],
  );
  if (result.rows.length === 0) return undefined;
  return result.rows.map((row) => ({
    name: String(row.column_name),
    type: String(row.data_type),
    isNullable: row.is_nullable === 'YES',
  }));
}

/** Whether a table or view of that name exists. */
export async function tableExists(read: StatementReader, table: TableName): Promise<boolean> {
  const result = await read(`SELECT 1 AS found FROM information_schema.tables WHERE ${IN_TABLE}`, [
    table.schema,
    table.name,
  ]);
  return result.rows.length > 0;
}

/** The names of the tables and views in a schema, sorted by code unit. */
export async function listTables(read: StatementReader, schema: string): Promise<string[]> {
  const result = await read(
    `SELECT table_name FROM information_schema.tables
     WHERE table_catalog = current_database() AND lower(table_schema) = lower($1)`,
    [schema],
  );
  return result.rows.map((row) => String(row.table_name)).sort();
}
