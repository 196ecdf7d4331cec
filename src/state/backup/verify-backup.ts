import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { SluiceError } from '../../core/errors.js';
import type { KeyRing } from '../state-types.js';
import { sha256OfFile, sizeOf } from './backup-files.js';
import {
  type BackupManifest,
  backupInvalid,
  checkAgainstManifest,
  dataPathOf,
  readManifest,
} from './backup-manifest.js';
import { readExportHeader } from './export-cipher.js';
import { readPostgresExport } from './postgres-export-reader.js';
import { verifySqliteCopy } from './sqlite-backup.js';

/**
 * Verifying a backup: its manifest exists and is well formed, its key is in the ring, the data
 * file has the manifest's size and checksum, and the data itself opens with that key and holds
 * the manifest's schema version and row counts (SQLite also passes `PRAGMA integrity_check`).
 */

/** Verifies the backup at `path` (its data file or its manifest); throws `backup_invalid`. */
export async function verifyBackup(path: string, keyRing: KeyRing): Promise<BackupManifest> {
  const dataPath = resolve(dataPathOf(path));
  const manifest = await readManifest(dataPath);
  checkKey(dataPath, manifest, keyRing);
  await checkSize(dataPath, manifest);

  if (manifest.backend === 'sqlite') {
    await checkChecksum(dataPath, manifest);
    await verifySqliteCopy(dataPath, manifest, keyRing);
  } else {
    await verifyPostgresExport(dataPath, manifest, keyRing);
  }
  return manifest;
}

function checkKey(path: string, manifest: BackupManifest, ring: KeyRing): void {
  if (ring.keys.has(manifest.keyId)) return;
  const ids = [...ring.keys.keys()].map((id) => `'${id}'`).join(', ');
  throw backupInvalid(
    path,
    `it was taken with key '${manifest.keyId}', which is not in the key ring (it holds ${ids}); ` +
      'add that key to SLUICE_STATE_KEYS or the key file to verify or restore it',
  );
}

async function checkSize(path: string, manifest: BackupManifest): Promise<void> {
  const size = await sizeOf(path);
  if (size === undefined) throw backupInvalid(path, 'its data file is missing');
  if (size !== manifest.sizeBytes) {
    throw backupInvalid(
      path,
      `it is ${size} bytes but its manifest says ${manifest.sizeBytes}: the file is truncated ` +
        'or was altered',
    );
  }
}

async function checkChecksum(path: string, manifest: BackupManifest): Promise<void> {
  checkDigest(path, manifest, await sha256OfFile(path));
}

function checkDigest(path: string, manifest: BackupManifest, digest: string): void {
  if (digest !== manifest.checksumSha256) {
    throw backupInvalid(
      path,
      'its SHA-256 checksum differs from its manifest: the file was altered',
    );
  }
}

/** One pass over the export: hash, decrypt (tag checked at the end) and check every line. */
async function verifyPostgresExport(
  path: string,
  manifest: BackupManifest,
  ring: KeyRing,
): Promise<void> {
  const header = await readExportHeader(path);
  if (header.keyId !== manifest.keyId) {
    throw backupInvalid(
      path,
      `it is encrypted with key '${header.keyId}' but its manifest says '${manifest.keyId}'`,
    );
  }

  const hash = createHash('sha256');
  let content: Awaited<ReturnType<typeof readPostgresExport>>;
  try {
    content = await readPostgresExport(path, ring, manifest.sizeBytes, hash);
  } catch (error) {
    // A damaged file usually fails to decrypt or parse before the end; the checksum names the
    // cause more plainly, so it is checked first.
    await checkChecksum(path, manifest);
    throw error instanceof SluiceError ? error : backupInvalid(path, 'it cannot be read', error);
  }

  checkDigest(path, manifest, hash.digest('hex'));
  checkAgainstManifest(path, manifest, content.schemaVersion, content.tables);
}
