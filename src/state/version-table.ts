import type { Kysely } from 'kysely';
import { hasStateTable } from './state-catalog.js';
import type { StateDatabase } from './state-store.js';
import type { Migration, StateBackend } from './state-types.js';

/**
 * The version table, `sluice_schema_migrations`: one row per applied migration, written in the
 * same transaction as the migration itself.
 */

/** The name of the version table. */
export const VERSION_TABLE = 'sluice_schema_migrations';

/** A row of the version table. */
export type AppliedMigration = {
  readonly version: number;
  readonly name: string;
  readonly appliedAt: string;
};

/** Creates the version table when it does not exist yet. */
export async function ensureVersionTable(db: Kysely<StateDatabase>): Promise<void> {
  await db.schema
    .createTable(VERSION_TABLE)
    .ifNotExists()
    .addColumn('version', 'integer', (column) => column.primaryKey())
    .addColumn('name', 'text', (column) => column.notNull())
    .addColumn('applied_at', 'text', (column) => column.notNull())
    .execute();
}

/** The applied migrations by version; none when the version table does not exist yet. */
export async function readAppliedMigrations(
  db: Kysely<StateDatabase>,
  backend: StateBackend,
): Promise<AppliedMigration[]> {
  if (!(await hasStateTable(db, backend, VERSION_TABLE))) return [];

  const rows = await db
    .selectFrom(VERSION_TABLE)
    .select(['version', 'name', 'applied_at'])
    .orderBy('version')
    .execute();
  return rows.map((row) => ({
    version: Number(row.version),
    name: String(row.name),
    appliedAt: String(row.applied_at),
  }));
}

/** Records a migration as applied; called inside the migration's transaction. */
export async function recordMigration(
  db: Kysely<StateDatabase>,
  migration: Migration,
): Promise<void> {
  await db
    .insertInto(VERSION_TABLE)
    .values({
      version: migration.version,
      name: migration.name,
      applied_at: new Date().toISOString(),
    })
    .execute();
}
