import type { ColumnInfo, EngineSession, TableName } from '../engine-adapter.js';
import { normaliseTypeName } from './postgres-types.js';

/**
 * Schema and table introspection from the system catalogs. "Table" covers every relation a
 * query can read: tables, partitioned tables, views, materialized views and foreign tables.
 */

const READABLE_KINDS = "('r', 'p', 'v', 'm', 'f')";

/** Whether the table or view exists. */
export async function tableExists(session: EngineSession, table: TableName): Promise<boolean> {
  const result = await session.query(
    'SELECT 1 FROM pg_catalog.pg_class c ' +
      'JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace ' +
      `WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ${READABLE_KINDS}`,
    [table.schema, table.name],
  );
  return result.rows.length > 0;
}

/** The columns in order, or undefined when there is no such table; types as format_type names. */
export async function describeTable(
  session: EngineSession,
  table: TableName,
): Promise<readonly ColumnInfo[] | undefined> {
  const result = await session.query(
    'SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, ' +
      'NOT a.attnotnull AS is_nullable ' +
      'FROM pg_catalog.pg_class c ' +
      'JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace ' +
      'LEFT JOIN pg_catalog.pg_attribute a ' +
      'ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped ' +
      `WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ${READABLE_KINDS} ` +
      'ORDER BY a.attnum',
    [table.schema, table.name],
  );
  if (result.rows.length === 0) return undefined;

  return result.rows
    .filter((row) => row.name !== null)
    .map((row) => ({
      name: String(row.name),
      type: normaliseTypeName(String(row.type)),
      isNullable: row.is_nullable === true,
    }));
}

/** The names of the tables and views in a schema, sorted as JavaScript sorts strings. */
export async function listTables(
  session: EngineSession,
  schema: string,
): Promise<readonly string[]> {
  const result = await session.query(
    'SELECT c.relname AS name FROM pg_catalog.pg_class c ' +
      'JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace ' +
      `WHERE n.nspname = $1 AND c.relkind IN ${READABLE_KINDS}`,
    [schema],
  );
  return result.rows.map((row) => String(row.name)).sort();
}
