import { type Kysely, sql } from 'kysely';
import type { StateDatabase } from './state-store.js';
import type { StateBackend } from './state-types.js';

/**
 * The store's own tables, read from the backend's catalog: SQLite's `sqlite_master` (less its
 * internal `sqlite_` tables), or on PostgreSQL the tables of the store's schema (the
 * connection's `current_schema()`).
 */

/** The names of the store's tables, sorted. */
export async function listStateTables(
  db: Kysely<StateDatabase>,
  backend: StateBackend,
): Promise<string[]> {
  const rows =
    backend === 'sqlite'
      ? await db.selectFrom('sqlite_master').select('name').where('type', '=', 'table').execute()
      : await db
          .selectFrom('information_schema.tables')
          .select('table_name as name')
          .where('table_schema', '=', sql<string>`current_schema()`)
          .where('table_type', '=', 'BASE TABLE')
          .execute();
  return rows
    .map((row) => String(row.name))
    .filter((name) => !name.startsWith('sqlite_'))
    .sort();
}

/** Whether the store has a table of this name. */
export async function hasStateTable(
  db: Kysely<StateDatabase>,
  backend: StateBackend,
  name: string,
): Promise<boolean> {
  const row =
    backend === 'sqlite'
      ? await db
          .selectFrom('sqlite_master')
          .select('name')
          .where('type', '=', 'table')
          .where('name', '=', name)
          .executeTakeFirst()
      : await db
          .selectFrom('information_schema.tables')
          .select('table_name as name')
          .where('table_schema', '=', sql<string>`current_schema()`)
          .where('table_name', '=', name)
          .executeTakeFirst();
  return row !== undefined;
}
