import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { link, open, readdir, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BACKUP_PREFIX, errorCode } from './backup-manifest.js';

/**
 * File handling for backups: temporary names, durable writes and atomic publication. A file is
 * written under `<name>.tmp-<pid>`, flushed to disk, then linked to its final name (a link never
 * replaces an existing file), so a crash leaves either a temporary file or a complete one.
 */

const TEMPORARY = /\.tmp-(\d+)$/;

/** The temporary name of a file this process writes. */
export function temporaryPathOf(path: string): string {
  return `${path}.tmp-${process.pid}`;
}

/** The pid in a temporary file's name, or undefined when the name is not a temporary one. */
export function temporaryOwner(name: string): number | undefined {
  const match = TEMPORARY.exec(name);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

/** Creates an empty file, failing with EEXIST when the name is taken. */
export async function claimFile(path: string): Promise<void> {
  const handle = await open(path, 'wx', 0o600);
  await handle.close();
}

/** Flushes a file's contents to disk. */
export async function syncFile(path: string): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Flushes a folder's entries (new names, removals) to disk where the platform allows it. */
export async function syncDirectory(dir: string): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch (error) {
    // Some platforms (Windows) and file systems cannot open or sync a folder; the rename itself
    // is still atomic there, only its durability across a power loss is weaker.
    if (!['EISDIR', 'EPERM', 'EINVAL', 'EACCES'].includes(errorCode(error))) throw error;
  } finally {
    await handle?.close();
  }
}

/** Gives a flushed temporary file its final name, failing with EEXIST if that name is taken. */
export async function publishFile(temporary: string, path: string): Promise<void> {
  await link(temporary, path);
  await unlink(temporary);
}

/** Writes a small file durably: temporary name, flush, rename into place, flush the folder. */
export async function writeFileAtomically(path: string, text: string, dir: string): Promise<void> {
  const temporary = temporaryPathOf(path);
  try {
    await writeFile(temporary, text, { mode: 0o600, flag: 'w' });
    await syncFile(temporary);
    await rename(temporary, path);
  } catch (error) {
    await removeQuietly(temporary);
    throw error;
  }
  await syncDirectory(dir);
}

/** SHA-256 of a file's bytes, lower-case hex. */
export async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    hash.update(chunk as Buffer);
  }
  return hash.digest('hex');
}

/** The size of a file, or undefined when it does not exist. */
export async function sizeOf(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size;
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw error;
  }
}

/** Removes a file, ignoring one that is already gone. */
export async function removeQuietly(path: string): Promise<void> {
  await unlink(path).catch(() => undefined);
}

/**
 * Removes the backup temporary files of processes that no longer run (a backup killed midway);
 * returns their paths. Temporary files of running processes, this one included, are kept.
 */
export async function removeStaleTemporaries(dir: string): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await readdir(dir)) {
    const owner = temporaryOwner(name);
    if (!name.startsWith(BACKUP_PREFIX) || owner === undefined || isRunning(owner)) continue;

    await removeQuietly(join(dir, name));
    removed.push(join(dir, name));
  }
  return removed;
}

/** Whether a process with this pid runs on this host. */
function isRunning(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return errorCode(error) === 'EPERM';
  }
}
