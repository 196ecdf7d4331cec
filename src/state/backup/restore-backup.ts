import { basename, resolve } from 'node:path';
import { SluiceError } from '../../core/errors.js';
import { appendAuditEntry } from '../audit-log.js';
import type { StateStore } from '../state-store.js';
import { type BackupManifest, dataPathOf } from './backup-manifest.js';
import { restorePostgres } from './postgres-restore.js';
import { restoreSqliteCopy } from './sqlite-restore.js';
import { verifyBackup } from './verify-backup.js';

/**
 * Restoring a backup into an open store: the file is verified first, then checked against the
 * store (same backend, schema version and tables), then every table's rows are replaced in one
 * transaction. Anything that fails leaves the store as it was.
 */

/** Options of a restore. */
export type RestoreOptions = {
  /** Who restores, for the audit log; 'local' (the command line on this machine) by default. */
  readonly actor?: string;
};

/**
 * Replaces the store's content with the backup at `path`; refuses a file that fails verification.
 * The restored audit log then records the restore, after the backup's last entry.
 */
export async function restoreBackup(
  store: StateStore,
  path: string,
  options: RestoreOptions = {},
): Promise<BackupManifest> {
  const dataPath = resolve(dataPathOf(path));
  const manifest = await verifyBackup(dataPath, store.keyRing);
  await checkRestorable(store, manifest);

  if (store.backend === 'sqlite') {
    await restoreSqliteCopy(store, dataPath, manifest);
  } else {
    await restorePostgres(store, dataPath, manifest);
  }
  await appendAuditEntry(store, {
    actor: options.actor ?? 'local',
    action: 'state.restored',
    subject: 'state',
    details: {
      backup: basename(manifest.file),
      createdAt: manifest.createdAt,
      schemaVersion: manifest.schemaVersion,
    },
  });
  return manifest;
}

async function checkRestorable(store: StateStore, manifest: BackupManifest): Promise<void> {
  if (manifest.backend !== store.backend) {
    throw refused(
      `The backup '${manifest.file}' is a ${manifest.backend} backup and cannot be restored ` +
        `into a ${store.backend} store; restore it into a ${manifest.backend} store`,
    );
  }

  const version = await store.schemaVersion();
  if (version !== manifest.schemaVersion) {
    throw refused(
      `The backup '${manifest.file}' has schema version ${manifest.schemaVersion} but the store ` +
        `has ${version}; restore it with the Sluice version that wrote it (into a store at that ` +
        'version), then migrate',
    );
  }

  const live = [...(await store.tableNames())].sort();
  const backedUp = Object.keys(manifest.tables).sort();
  const missing = live.filter((table) => !backedUp.includes(table));
  const extra = backedUp.filter((table) => !live.includes(table));
  if (missing.length > 0 || extra.length > 0) {
    const problems = [describe(missing, 'missing'), describe(extra, 'not in the store')];
    throw refused(
      `The backup '${manifest.file}' does not hold the store's tables ` +
        `(${problems.filter((text) => text !== '').join('; ')}); restore it with the Sluice ` +
        'version that wrote it',
    );
  }
}

function describe(tables: readonly string[], what: string): string {
  return tables.length === 0 ? '' : `${what}: ${tables.map((table) => `'${table}'`).join(', ')}`;
}

function refused(message: string): SluiceError {
  return new SluiceError('backup_refused', message);
}
