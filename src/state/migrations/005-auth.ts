import { type Kysely, sql } from 'kysely';
import type { StateDatabase } from '../state-store.js';
import type { Migration } from '../state-types.js';
import { bytesType } from './column-types.js';

/**
 * What the Scheduler's security needs: OAuth clients with their roles and hashed secrets (two
 * per client while one rotates), the keys that sign access tokens (the private half encrypted),
 * and a hash chain over the audit log.
 *
 * The audit log gains a sequence number and two hashes. Entries written before this migration
 * are numbered 1..n in id order but stay unchained: hashing them needs their decrypted details,
 * and a migration has no cipher. `audit_chain_start_seq` in `sluice_store_info` records the first
 * chained sequence number, so that readers and the chain check know which entries are which.
 */
export const authMigration: Migration = {
  version: 5,
  name: 'auth',
  encryptedColumns: [{ table: 'sluice_signing_keys', column: 'private_jwk', idColumn: 'kid' }],
  async up(untyped, backend) {
    const db = untyped as Kysely<StateDatabase>;

    await db.schema
      .createTable('sluice_oauth_clients')
      .addColumn('client_id', 'text', (column) => column.primaryKey())
      .addColumn('roles', 'text', (column) => column.notNull())
      .addColumn('created_at', 'text', (column) => column.notNull())
      .addColumn('revoked_at', 'text')
      .execute();

    await db.schema
      .createTable('sluice_oauth_client_secrets')
      .addColumn('id', 'text', (column) => column.primaryKey())
      .addColumn('client_id', 'text', (column) =>
        column.notNull().references('sluice_oauth_clients.client_id'),
      )
      .addColumn('hash', 'text', (column) => column.notNull())
      .addColumn('created_at', 'text', (column) => column.notNull())
      .addColumn('expires_at', 'text')
      .execute();
    await db.schema
      .createIndex('sluice_oauth_client_secrets_client')
      .on('sluice_oauth_client_secrets')
      .column('client_id')
      .execute();

    await db.schema
      .createTable('sluice_signing_keys')
      .addColumn('kid', 'text', (column) => column.primaryKey())
      .addColumn('algorithm', 'text', (column) => column.notNull())
      .addColumn('public_jwk', 'text', (column) => column.notNull())
      .addColumn('private_jwk', bytesType(backend), (column) => column.notNull())
      .addColumn('created_at', 'text', (column) => column.notNull())
      .addColumn('retired_at', 'text')
      .execute();

    await chainAuditLog(db);
  },
};

/** Adds the chain's columns, numbers the existing entries and records where the chain starts. */
async function chainAuditLog(db: Kysely<StateDatabase>): Promise<void> {
  // One column per statement: SQLite's ALTER TABLE adds a single column. The sequence number
  // stays nullable because SQLite cannot add a NOT NULL column without a default; every writer
  // sets it and the chain check reports a row without one.
  await db.schema.alterTable('sluice_audit_log').addColumn('seq', 'integer').execute();
  await db.schema.alterTable('sluice_audit_log').addColumn('prev_hash', 'text').execute();
  await db.schema.alterTable('sluice_audit_log').addColumn('entry_hash', 'text').execute();

  await sql`
    UPDATE sluice_audit_log SET seq = numbered.n
    FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM sluice_audit_log) AS numbered
    WHERE sluice_audit_log.id = numbered.id`.execute(db);
  await db.schema
    .createIndex('sluice_audit_log_seq')
    .on('sluice_audit_log')
    .column('seq')
    .unique()
    .execute();

  const counted = await db
    .selectFrom('sluice_audit_log')
    .select((select) => select.fn.countAll().as('entries'))
    .executeTakeFirstOrThrow();
  await db
    .insertInto('sluice_store_info')
    .values({ key: 'audit_chain_start_seq', value: String(Number(counted.entries) + 1) })
    .execute();
}
