import { readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { SluiceError } from '../../core/errors.js';
import type { StateBackend } from '../state-types.js';
import {
  removeQuietly,
  removeStaleTemporaries,
  sha256OfFile,
  sizeOf,
  temporaryOwner,
} from './backup-files.js';
import {
  BACKUP_PREFIX,
  type BackupManifest,
  MANIFEST_SUFFIX,
  manifestPathOf,
  parseManifest,
} from './backup-manifest.js';

/**
 * Pruning a backup folder: backups taken longer ago than the retention are removed, as are files
 * without a valid manifest last modified that long ago, and temporary files of processes that no
 * longer run. The newest backup of each backend whose data file matches its manifest's checksum
 * is always kept, however old, so pruning never leaves a folder without a good backup.
 */

/** What `pruneBackups` keeps. */
export type PruneOptions = {
  /** Backups older than this many days are removed; 14 by default. */
  readonly retentionDays?: number;
  readonly now?: Date;
};

/** The default retention of backups. */
export const DEFAULT_RETENTION_DAYS = 14;

const DAY_MS = 24 * 60 * 60 * 1000;

type Backup = { readonly path: string; readonly manifest: BackupManifest };
type Orphan = { readonly path: string; readonly modifiedMs: number };

/** Removes old backups from `dir`; returns the paths of the removed files. */
export async function pruneBackups(dir: string, options: PruneOptions = {}): Promise<string[]> {
  const folder = resolve(dir);
  if ((await sizeOf(folder)) === undefined) return [];
  const cutoffMs = (options.now ?? new Date()).getTime() - retentionMs(options.retentionDays);
  const { backups, orphans } = await scanFolder(folder);
  const kept = await newestGoodBackups(backups);

  const removed: string[] = [];
  for (const backup of backups) {
    if (Date.parse(backup.manifest.createdAt) >= cutoffMs || kept.has(backup.path)) continue;
    // The manifest goes first, so an interrupted prune leaves a data file that no longer
    // verifies rather than a manifest pointing at nothing.
    await removeQuietly(manifestPathOf(backup.path));
    await removeQuietly(backup.path);
    removed.push(manifestPathOf(backup.path), backup.path);
  }
  for (const orphan of orphans) {
    if (orphan.modifiedMs >= cutoffMs) continue;
    await removeQuietly(orphan.path);
    removed.push(orphan.path);
  }
  removed.push(...(await removeStaleTemporaries(folder)));
  return removed;
}

function retentionMs(retentionDays: number = DEFAULT_RETENTION_DAYS): number {
  checkRetentionDays(retentionDays);
  return retentionDays * DAY_MS;
}

/** Throws `config_invalid` unless `retentionDays` is a number of days of at least 0. */
export function checkRetentionDays(retentionDays: number): void {
  if (!Number.isFinite(retentionDays) || retentionDays < 0) {
    throw new SluiceError(
      'config_invalid',
      `The backup retention must be a number of days of at least 0, not ${retentionDays}; ` +
        `set it to ${DEFAULT_RETENTION_DAYS} to keep two weeks of backups`,
    );
  }
}

/** Sorts the folder's backup files into complete backups and files without a valid manifest. */
async function scanFolder(dir: string): Promise<{ backups: Backup[]; orphans: Orphan[] }> {
  const names = (await readdir(dir)).filter(
    (name) => name.startsWith(BACKUP_PREFIX) && temporaryOwner(name) === undefined,
  );
  const backups: Backup[] = [];
  const orphans: Orphan[] = [];

  for (const name of names.filter((entry) => !entry.endsWith(MANIFEST_SUFFIX))) {
    const path = join(dir, name);
    const manifest = await manifestOf(path);
    if (manifest === undefined) orphans.push(await orphan(path));
    else backups.push({ path, manifest });
  }
  for (const name of names.filter((entry) => entry.endsWith(MANIFEST_SUFFIX))) {
    const dataName = name.slice(0, -MANIFEST_SUFFIX.length);
    const isPaired = backups.some((backup) => backup.path === join(dir, dataName));
    if (!isPaired) orphans.push(await orphan(join(dir, name)));
  }
  return { backups, orphans };
}

async function manifestOf(dataPath: string): Promise<BackupManifest | undefined> {
  try {
    return parseManifest(await readFile(manifestPathOf(dataPath), 'utf8'), dataPath);
  } catch {
    return undefined;
  }
}

async function orphan(path: string): Promise<Orphan> {
  return { path, modifiedMs: (await stat(path)).mtimeMs };
}

/** The newest backup of each backend whose file has its manifest's size and checksum. */
async function newestGoodBackups(backups: readonly Backup[]): Promise<Set<string>> {
  const kept = new Set<string>();
  const newestFirst = [...backups].sort(
    (a, b) => Date.parse(b.manifest.createdAt) - Date.parse(a.manifest.createdAt),
  );
  for (const backend of ['sqlite', 'postgres'] satisfies StateBackend[]) {
    for (const backup of newestFirst.filter((b) => b.manifest.backend === backend)) {
      if (await matchesManifest(backup)) {
        kept.add(backup.path);
        break;
      }
    }
  }
  return kept;
}

async function matchesManifest(backup: Backup): Promise<boolean> {
  const size = await sizeOf(backup.path);
  if (size !== backup.manifest.sizeBytes) return false;
  return (await sha256OfFile(backup.path)) === backup.manifest.checksumSha256;
}
