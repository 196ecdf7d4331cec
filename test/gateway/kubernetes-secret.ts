import { mkdir, mkdtemp, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A new empty temporary folder. */
export function tempFolder(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'sluice-gateway-'));
}

/**
 * Writes a folder the way the kubelet mounts a Secret: the files in a timestamped `..<version>`
 * folder, a `..data` link to it, and one link per key through `..data`. Writing again publishes a
 * new version by swapping `..data` atomically (a rename over the old link), then removes the old
 * version, as the kubelet does on an update.
 */
export async function writeKubernetesSecret(
  folder: string,
  files: Readonly<Record<string, string>>,
): Promise<void> {
  await mkdir(folder, { recursive: true });
  const previous = await readlink(join(folder, '..data')).catch(() => undefined);
  const version = `..${new Date().toISOString().replace(/\D/g, '_')}${Math.random().toString(36).slice(2)}`;

  await mkdir(join(folder, version));
  for (const [key, value] of Object.entries(files))
    await writeFile(join(folder, version, key), value);
  await symlink(version, join(folder, '..data_tmp'));
  await rename(join(folder, '..data_tmp'), join(folder, '..data'));

  await linkKeys(folder, Object.keys(files));
  if (previous !== undefined) await rm(join(folder, previous), { recursive: true });
}

async function linkKeys(folder: string, keys: readonly string[]): Promise<void> {
  for (const key of keys) {
    const path = join(folder, key);
    const isLinked = await readlink(path).then(
      () => true,
      () => false,
    );
    if (!isLinked) await symlink(join('..data', key), path);
  }
}
