/**
 * Backups of the state store: encrypted copies written atomically with a manifest, verified,
 * restored, pruned and taken on a schedule. This module is the folder's public face.
 */

export type { BackupManifest, BackupReason } from './backup-manifest.js';
export { type CreateBackupOptions, type CreatedBackup, createBackup } from './create-backup.js';
export {
  DEFAULT_BACKUP_CRON,
  NightlyBackup,
  type NightlyBackupOptions,
} from './nightly-backup.js';
export { DEFAULT_RETENTION_DAYS, type PruneOptions, pruneBackups } from './prune-backups.js';
export { restoreBackup } from './restore-backup.js';
export { verifyBackup } from './verify-backup.js';
