import type { Kysely } from 'kysely';
import type { StateDatabase } from '../state-store.js';
import type { Migration } from '../state-types.js';
import { bytesType } from './column-types.js';

/**
 * Versions and intervals: every snapshot of a model (its definition encrypted), one row per
 * version's physical table, the intervals each version has processed as merged ranges, and leases
 * that keep two processes from evaluating the same version at once.
 */

/** Snapshots, versions, processed intervals and leases. */
export const versionsMigration: Migration = {
  version: 2,
  name: 'versions',
  encryptedColumns: [{ table: 'sluice_snapshots', column: 'definition', idColumn: 'id' }],
  async up(untyped, backend) {
    const db = untyped as Kysely<StateDatabase>;

    await db.schema
      .createTable('sluice_versions')
      .addColumn('id', 'text', (column) => column.primaryKey())
      .addColumn('model_name', 'text', (column) => column.notNull())
      .addColumn('version', 'text', (column) => column.notNull())
      .addColumn('physical_schema', 'text')
      .addColumn('physical_name', 'text')
      .addColumn('created_at', 'text', (column) => column.notNull())
      .addColumn('table_created_at', 'text')
      .execute();

    await db.schema
      .createTable('sluice_snapshots')
      .addColumn('id', 'text', (column) => column.primaryKey())
      .addColumn('version_id', 'text', (column) =>
        column.notNull().references('sluice_versions.id'),
      )
      .addColumn('data_hash', 'text', (column) => column.notNull())
      .addColumn('metadata_hash', 'text', (column) => column.notNull())
      .addColumn('created_at', 'text', (column) => column.notNull())
      .addColumn('definition', bytesType(backend), (column) => column.notNull())
      .execute();
    await db.schema
      .createIndex('sluice_snapshots_version')
      .on('sluice_snapshots')
      .column('version_id')
      .execute();

    await db.schema
      .createTable('sluice_intervals')
      .addColumn('version_id', 'text', (column) =>
        column.notNull().references('sluice_versions.id'),
      )
      .addColumn('start_ms', 'bigint', (column) => column.notNull())
      .addColumn('end_ms', 'bigint', (column) => column.notNull())
      .addPrimaryKeyConstraint('sluice_intervals_pk', ['version_id', 'start_ms'])
      .execute();

    await db.schema
      .createTable('sluice_leases')
      .addColumn('key', 'text', (column) => column.primaryKey())
      .addColumn('owner', 'text', (column) => column.notNull())
      .addColumn('expires_at_ms', 'bigint', (column) => column.notNull())
      .execute();
  },
};
