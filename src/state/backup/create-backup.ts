import { access, mkdir } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { SluiceError } from '../../core/errors.js';
import { hitFailpoint } from '../failpoint.js';
import type { StateStore } from '../state-store.js';
import type { StateBackend } from '../state-types.js';
import {
  claimFile,
  publishFile,
  removeQuietly,
  removeStaleTemporaries,
  sha256OfFile,
  sizeOf,
  syncDirectory,
  syncFile,
  temporaryPathOf,
  writeFileAtomically,
} from './backup-files.js';
import {
  type BackupManifest,
  type BackupReason,
  backupFileName,
  errorCode,
  formatManifest,
  manifestPathOf,
} from './backup-manifest.js';
import { writePostgresExport } from './postgres-export.js';
import { writeSqliteCopy } from './sqlite-backup.js';

/**
 * Taking a backup: the data file is written under a temporary name, flushed and linked to its
 * final name; the manifest (with the final file's checksum) is renamed into place last. A crash
 * at any point leaves no new file, a temporary file (removed by the next backup), or a data file
 * without a manifest, which never verifies. Older backups are never touched.
 */

/** What `createBackup` needs besides the store. */
export type CreateBackupOptions = {
  readonly dir: string;
  readonly reason: BackupReason;
  /** The backup's time, for its name and manifest; defaults to now. */
  readonly now?: Date;
};

/** A backup just written: its manifest and the path of its data file. */
export type CreatedBackup = BackupManifest & { readonly path: string };

type DataContent = Omit<BackupManifest, 'format' | 'backend' | 'file' | 'createdAt' | 'reason'>;

/** What a backup's file name is made of. */
type BackupName = {
  readonly dir: string;
  readonly backend: StateBackend;
  readonly createdAt: Date;
  readonly reason: BackupReason;
};

/** How many same-second backups with one reason may share a folder before giving up. */
const MAX_NAME_ATTEMPTS = 100;

/** Writes a backup of the store into `options.dir` (created when missing). */
export async function createBackup(
  store: StateStore,
  options: CreateBackupOptions,
): Promise<CreatedBackup> {
  const dir = resolve(options.dir);
  const createdAt = options.now ?? new Date();
  const name: BackupName = { dir, backend: store.backend, createdAt, reason: options.reason };
  await prepareFolder(dir);

  const temporary = await claimTemporary(name);
  const { path, content } = await writeDataFile(store, temporary, name);
  hitFailpoint('backup-before-manifest');

  const manifest: BackupManifest = {
    format: 1,
    backend: store.backend,
    file: basename(path),
    ...content,
    createdAt: createdAt.toISOString(),
    reason: options.reason,
  };
  try {
    await writeFileAtomically(manifestPathOf(path), formatManifest(manifest), dir);
  } catch (error) {
    await removeQuietly(path);
    throw failed(dir, error);
  }
  return { ...manifest, path };
}

/** Creates the folder when missing and removes temporary files left by crashed backups. */
async function prepareFolder(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await removeStaleTemporaries(dir);
  } catch (error) {
    throw failed(dir, error);
  }
}

function pathOf(name: BackupName, attempt: number): string {
  return join(name.dir, backupFileName(name.backend, name.createdAt, name.reason, attempt));
}

/** Creates an empty temporary file named after the first free name no other backup claimed. */
async function claimTemporary(name: BackupName): Promise<string> {
  for (let attempt = 1; attempt <= MAX_NAME_ATTEMPTS; attempt++) {
    const path = pathOf(name, attempt);
    if ((await exists(path)) || (await exists(manifestPathOf(path)))) continue;
    const temporary = temporaryPathOf(path);
    try {
      await claimFile(temporary);
      return temporary;
    } catch (error) {
      if (errorCode(error) !== 'EEXIST') throw failed(name.dir, error);
    }
  }
  throw tooManyBackups(name);
}

/** Writes the data file under its temporary name and publishes it; removes it on failure. */
async function writeDataFile(
  store: StateStore,
  temporary: string,
  name: BackupName,
): Promise<{ path: string; content: DataContent }> {
  try {
    const content =
      store.backend === 'sqlite'
        ? await writeSqliteData(store, temporary)
        : await writePostgresExport(store, temporary);
    hitFailpoint('backup-after-copy');

    const path = await publish(temporary, name);
    await syncDirectory(name.dir);
    return { path, content };
  } catch (error) {
    await removeQuietly(temporary);
    throw failed(name.dir, error);
  }
}

/**
 * Links the temporary file to the first free name. A link never replaces a file, so backups
 * taken in the same second, by this process or another, never overwrite each other.
 */
async function publish(temporary: string, name: BackupName): Promise<string> {
  for (let attempt = 1; attempt <= MAX_NAME_ATTEMPTS; attempt++) {
    const path = pathOf(name, attempt);
    if (await exists(manifestPathOf(path))) continue;
    try {
      await publishFile(temporary, path);
      return path;
    } catch (error) {
      if (errorCode(error) !== 'EEXIST') throw error;
    }
  }
  throw tooManyBackups(name);
}

function tooManyBackups(name: BackupName): SluiceError {
  return new SluiceError(
    'state_error',
    `The backup folder '${name.dir}' already holds ${MAX_NAME_ATTEMPTS} ${name.reason} backups ` +
      `taken at ${name.createdAt.toISOString()}; wait a second and back up again`,
  );
}

async function writeSqliteData(store: StateStore, temporary: string): Promise<DataContent> {
  const content = await writeSqliteCopy(store, temporary);
  await syncFile(temporary);
  return {
    ...content,
    sizeBytes: (await sizeOf(temporary)) ?? 0,
    checksumSha256: await sha256OfFile(temporary),
  };
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** A failure while writing; SluiceErrors pass through, file system errors get a message. */
function failed(dir: string, error: unknown): unknown {
  if (error instanceof SluiceError) return error;
  const code = errorCode(error);
  const reason = code === 'unknown error' && error instanceof Error ? error.message : code;
  return new SluiceError(
    'state_error',
    `The state backup into '${dir}' failed (${reason}); check that the folder is writable and ` +
      'has room for a copy of the state, then back up again',
    { cause: error, retryable: true },
  );
}
