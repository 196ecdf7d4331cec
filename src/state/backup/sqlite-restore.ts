import { resolve } from 'node:path';
import { type Kysely, sql } from 'kysely';
import { sqliteFileKey } from '../crypto/sqlite-file-key.js';
import type { StateStore } from '../state-store.js';
import type { BackupManifest } from './backup-manifest.js';

/**
 * Restores a verified SQLite backup into the store: the copy is attached to the store's own
 * connection with its key, and one `BEGIN IMMEDIATE` transaction empties every table and fills
 * it from the copy. The live file keeps its own key and stays open; a failure rolls back and
 * leaves the store as it was. The copy runs on the store's connection, so the process's event
 * loop waits for it; a restore is rare and stops the store's work anyway.
 */

const ATTACHED = 'sluice_backup';

// biome-ignore lint/suspicious/noExplicitAny: the restore writes tables the type does not name
type AnyDb = Kysely<any>;

/** Replaces the rows of the store's tables with those of the copy at `path`. */
export async function restoreSqliteCopy(
  store: StateStore,
  path: string,
  manifest: BackupManifest,
): Promise<void> {
  const key = store.keyRing.keys.get(manifest.keyId) ?? store.keyRing.active;
  const tables = Object.keys(manifest.tables).sort();
  const keyText = `x'${sqliteFileKey(key)}'`;

  await store.db.connection().execute(async (db) => {
    await sql`ATTACH DATABASE ${resolve(path)} AS ${sql.id(ATTACHED)} KEY ${keyText}`.execute(db);
    try {
      await inTransaction(db, async () => {
        await sql`PRAGMA defer_foreign_keys = ON`.execute(db);
        // Every table is emptied before any is filled, so that a cascading delete cannot remove
        // rows already restored into another table.
        for (const table of tables) await sql`DELETE FROM ${sql.id('main', table)}`.execute(db);
        for (const table of tables) await copyTable(db, table);
      });
    } finally {
      await sql`DETACH DATABASE ${sql.id(ATTACHED)}`.execute(db);
    }
  });
}

/** `BEGIN IMMEDIATE` ... `COMMIT` on the connection, rolled back when `work` throws. */
async function inTransaction(db: AnyDb, work: () => Promise<void>): Promise<void> {
  await sql`BEGIN IMMEDIATE`.execute(db);
  try {
    await work();
    await sql`COMMIT`.execute(db);
  } catch (error) {
    await sql`ROLLBACK`.execute(db).catch(() => undefined);
    throw error;
  }
}

async function copyTable(db: AnyDb, table: string): Promise<void> {
  const info = await sql<{ name: string; hidden: number }>`
    SELECT name, hidden FROM pragma_table_xinfo(${table}, 'main')`.execute(db);
  const columns = sql.join(info.rows.filter((c) => c.hidden === 0).map((c) => sql.id(c.name)));

  await sql`
    INSERT INTO ${sql.id('main', table)} (${columns})
    SELECT ${columns} FROM ${sql.id(ATTACHED, table)}`.execute(db);
}
