import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { z } from 'zod';
import { SluiceError } from '../../core/errors.js';
import type { StateBackend } from '../state-types.js';

/**
 * The manifest written beside each backup file: what the file holds and how to check it. A backup
 * is only complete once its manifest exists, since the manifest is renamed into place last.
 */

/** Why a backup was taken. */
export type BackupReason = 'nightly' | 'pre-migration' | 'manual';

/** The contents of `<backup file>.manifest.json`. */
export type BackupManifest = {
  readonly format: 1;
  readonly backend: StateBackend;
  /** The data file's name, without its folder. */
  readonly file: string;
  readonly sizeBytes: number;
  /** SHA-256 of the whole data file, lower-case hex. */
  readonly checksumSha256: string;
  readonly schemaVersion: number;
  /** The id of the state key the data file is encrypted with. */
  readonly keyId: string;
  /** When the backup was taken, ISO 8601 in UTC. */
  readonly createdAt: string;
  readonly reason: BackupReason;
  /** Row counts of every table in the backup, by table name. */
  readonly tables: Readonly<Record<string, number>>;
};

/** The suffix that turns a data file's path into its manifest's path. */
export const MANIFEST_SUFFIX = '.manifest.json';

/** Every backup file's name starts with this. */
export const BACKUP_PREFIX = 'sluice-state-';

const count = z.number().int().nonnegative();

const manifestSchema = z.strictObject({
  format: z.literal(1),
  backend: z.enum(['sqlite', 'postgres']),
  file: z.string().min(1),
  sizeBytes: count,
  checksumSha256: z.string().regex(/^[0-9a-f]{64}$/),
  schemaVersion: count,
  keyId: z.string().min(1),
  createdAt: z.iso.datetime(),
  reason: z.enum(['nightly', 'pre-migration', 'manual']),
  tables: z.record(z.string(), count),
});

/** The manifest path of a data file. */
export function manifestPathOf(dataPath: string): string {
  return `${dataPath}${MANIFEST_SUFFIX}`;
}

/** The data file of a path that names either the data file or its manifest. */
export function dataPathOf(path: string): string {
  return path.endsWith(MANIFEST_SUFFIX) ? path.slice(0, -MANIFEST_SUFFIX.length) : path;
}

/**
 * The data file name of a backup: `sluice-state-<backend>-<yyyymmddThhmmssZ>-<reason>.<ext>`;
 * a second backup with the same name in the same second gets `-2`, `-3`, ... after the reason.
 */
export function backupFileName(
  backend: StateBackend,
  createdAt: Date,
  reason: BackupReason,
  attempt: number,
): string {
  const stamp = createdAt
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  const suffix = attempt <= 1 ? '' : `-${attempt}`;
  const extension = backend === 'sqlite' ? 'db' : 'export';
  return `${BACKUP_PREFIX}${backend}-${stamp}-${reason}${suffix}.${extension}`;
}

/** The manifest as written to disk. */
export function formatManifest(manifest: BackupManifest): string {
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

/** Reads and checks the manifest of a data file; a missing or malformed one is `backup_invalid`. */
export async function readManifest(dataPath: string): Promise<BackupManifest> {
  const path = manifestPathOf(dataPath);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw backupInvalid(
      dataPath,
      `its manifest '${basename(path)}' cannot be read (${errorCode(error)}); a backup is ` +
        'complete only with its manifest, so this one was interrupted or its manifest was lost',
      error,
    );
  }

  return parseManifest(text, dataPath);
}

/** Parses manifest text; `dataPath` names the backup in messages. */
export function parseManifest(text: string, dataPath: string): BackupManifest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw backupInvalid(dataPath, 'its manifest is not valid JSON', error);
  }

  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue === undefined ? '' : ` (field '${issue.path.join('.')}': ${issue.message})`;
    throw backupInvalid(dataPath, `its manifest is not a Sluice backup manifest${where}`);
  }
  return parsed.data;
}

/** A `backup_invalid` error naming the backup and what failed. */
export function backupInvalid(dataPath: string, reason: string, cause?: unknown): SluiceError {
  return new SluiceError(
    'backup_invalid',
    `Backup '${basename(dataPath)}' failed verification: ${reason}`,
    { cause },
  );
}

/** The `code` of a Node.js system error, for messages. */
export function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : 'unknown error';
}

/** Compares what a backup holds with what its manifest says; shared by both backends. */
export function checkAgainstManifest(
  path: string,
  manifest: BackupManifest,
  schemaVersion: number,
  tables: Readonly<Record<string, number>>,
): void {
  if (schemaVersion !== manifest.schemaVersion) {
    throw backupInvalid(
      path,
      `it holds schema version ${schemaVersion} but its manifest says ${manifest.schemaVersion}`,
    );
  }
  const names = (record: Readonly<Record<string, number>>) => Object.keys(record).sort().join(', ');
  if (names(tables) !== names(manifest.tables)) {
    throw backupInvalid(
      path,
      `it holds tables (${names(tables)}) but its manifest lists (${names(manifest.tables)})`,
    );
  }
  for (const [table, expected] of Object.entries(manifest.tables)) {
    if (tables[table] !== expected) {
      throw backupInvalid(
        path,
        `table '${table}' holds ${tables[table] ?? 'no'} rows but its manifest says ${expected}`,
      );
    }
  }
}
