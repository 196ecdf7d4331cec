import type { Kysely } from 'kysely';
import type { StateDatabase } from '../state-store.js';
import type { Migration } from '../state-types.js';
import { bytesType } from './column-types.js';

/**
 * Environments and plans. An environment row names the snapshots its views point at, the ones
 * they pointed at before (for rollback) and a revision that every promotion bumps, so a plan made
 * against an older revision is refused. A plan row keeps the plan, encrypted, and its status.
 */
export const environmentsMigration: Migration = {
  version: 3,
  name: 'environments',
  encryptedColumns: [{ table: 'sluice_plans', column: 'contents', idColumn: 'id' }],
  async up(untyped, backend) {
    const db = untyped as Kysely<StateDatabase>;

    await db.schema
      .createTable('sluice_environments')
      .addColumn('name', 'text', (column) => column.primaryKey())
      .addColumn('revision', 'integer', (column) => column.notNull())
      .addColumn('snapshot_ids', 'text', (column) => column.notNull())
      .addColumn('previous_snapshot_ids', 'text')
      .addColumn('plan_id', 'text')
      .addColumn('created_at', 'text', (column) => column.notNull())
      .addColumn('updated_at', 'text', (column) => column.notNull())
      .addColumn('last_used_at', 'text', (column) => column.notNull())
      .addColumn('expires_at', 'text')
      .execute();

    await db.schema
      .createTable('sluice_plans')
      .addColumn('id', 'text', (column) => column.primaryKey())
      .addColumn('environment', 'text', (column) => column.notNull())
      .addColumn('base_revision', 'integer', (column) => column.notNull())
      .addColumn('status', 'text', (column) => column.notNull())
      .addColumn('created_at', 'text', (column) => column.notNull())
      .addColumn('finished_at', 'text')
      .addColumn('contents', bytesType(backend), (column) => column.notNull())
      .execute();
    await db.schema
      .createIndex('sluice_plans_environment')
      .on('sluice_plans')
      .columns(['environment', 'created_at'])
      .execute();
  },
};
