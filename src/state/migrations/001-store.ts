import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { StateDatabase } from '../state-store.js';
import type { Migration } from '../state-types.js';
import { bytesType } from './column-types.js';

/**
 * The first migration: the store's identity (`sluice_store_info`, a key/value table holding its
 * id and creation time) and the audit log, whose details are encrypted.
 */

/** The store's identity and the audit log. */
export const storeMigration: Migration = {
  version: 1,
  name: 'store',
  encryptedColumns: [{ table: 'sluice_audit_log', column: 'details', idColumn: 'id' }],
  async up(untyped, backend) {
    const db = untyped as Kysely<StateDatabase>;

    await db.schema
      .createTable('sluice_store_info')
      .addColumn('key', 'text', (column) => column.primaryKey())
      .addColumn('value', 'text', (column) => column.notNull())
      .execute();
    await db
      .insertInto('sluice_store_info')
      .values([
        { key: 'store_id', value: randomUUID() },
        { key: 'created_at', value: new Date().toISOString() },
      ])
      .execute();

    await db.schema
      .createTable('sluice_audit_log')
      .addColumn('id', 'text', (column) => column.primaryKey())
      .addColumn('occurred_at', 'text', (column) => column.notNull())
      .addColumn('actor', 'text', (column) => column.notNull())
      .addColumn('action', 'text', (column) => column.notNull())
      .addColumn('subject', 'text', (column) => column.notNull())
      .addColumn('details', bytesType(backend), (column) => column.notNull())
      .execute();
  },
};
