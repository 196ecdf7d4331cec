import { mkdir, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { CredentialProvider } from '../../src/gateway/credential-provider.js';
import { createFileProvider } from '../../src/gateway/providers/file-provider.js';
import { errorOf } from '../helpers/errors.js';
import { tempFolder, writeKubernetesSecret } from './kubernetes-secret.js';

const folders: string[] = [];

async function secretsFolder(): Promise<string> {
  const folder = await tempFolder();
  folders.push(folder);
  return folder;
}

afterEach(async () => {
  for (const folder of folders.splice(0)) await rm(folder, { recursive: true, force: true });
});

/** Every parameter the provider has for the gateway, read. */
async function valuesOf(provider: CredentialProvider, gateway: string) {
  const parameters = await provider.parametersOf(gateway);
  if (parameters === undefined) return undefined;
  const values: Record<string, unknown> = {};
  for (const [name, parameter] of parameters) values[name] = await parameter.read();
  return values;
}

describe('the file provider', () => {
  it("reads one file per parameter from the gateway's folder, trimming one trailing newline", async () => {
    const dir = await secretsFolder();
    await mkdir(join(dir, 'warehouse'));
    await writeFile(join(dir, 'warehouse', 'user'), 'loader\n');
    await writeFile(join(dir, 'warehouse', 'password'), 'line one\nline two\r\n');
    await writeFile(join(dir, 'warehouse', 'host'), 'db.internal');

    const provider = createFileProvider({ dir });

    expect(await valuesOf(provider, 'warehouse')).toEqual({
      user: 'loader',
      password: 'line one\nline two',
      host: 'db.internal',
    });
    const parameters = await provider.parametersOf('warehouse');
    expect(parameters?.get('user')?.origin).toBe(`file ${join(dir, 'warehouse', 'user')}`);
  });

  it('reads the files directly in the folder for the gateway configured for the flat layout', async () => {
    const dir = await secretsFolder();
    await writeFile(join(dir, 'password'), 'flat-secret\n');

    const provider = createFileProvider({ dir, flatGateway: 'warehouse' });

    expect(await valuesOf(provider, 'warehouse')).toEqual({ password: 'flat-secret' });
    expect(await provider.parametersOf('other')).toBeUndefined();
  });

  it('skips dot-files and folders and follows the links of a mounted Kubernetes Secret', async () => {
    const dir = await secretsFolder();
    await writeKubernetesSecret(join(dir, 'warehouse'), { user: 'loader', password: 'k8s-secret' });
    await writeFile(join(dir, 'warehouse', '.hidden'), 'not a parameter');
    await mkdir(join(dir, 'warehouse', 'nested'));

    const entries = await readdir(join(dir, 'warehouse'));
    expect(entries).toContain('..data');

    expect(await valuesOf(createFileProvider({ dir }), 'warehouse')).toEqual({
      user: 'loader',
      password: 'k8s-secret',
    });
  });

  it('follows a link that points outside the folder', async () => {
    const dir = await secretsFolder();
    const elsewhere = await secretsFolder();
    await writeFile(join(elsewhere, 'agent-output'), 'from-an-agent\n');
    await mkdir(join(dir, 'warehouse'));
    await symlink(join(elsewhere, 'agent-output'), join(dir, 'warehouse', 'password'));

    expect(await valuesOf(createFileProvider({ dir }), 'warehouse')).toEqual({
      password: 'from-an-agent',
    });
  });

  it('picks up a rotated Kubernetes Secret after its ..data link is swapped', async () => {
    const dir = await secretsFolder();
    const folder = join(dir, 'warehouse');
    await writeKubernetesSecret(folder, { password: 'before-rotation' });
    const provider = createFileProvider({ dir });
    expect(await valuesOf(provider, 'warehouse')).toEqual({ password: 'before-rotation' });

    await writeKubernetesSecret(folder, { password: 'after-rotation', user: 'added-later' });

    expect(await valuesOf(provider, 'warehouse')).toEqual({
      password: 'after-rotation',
      user: 'added-later',
    });
  });

  it('reads the newer version when a swap removes the listed one before the value is read', async () => {
    const dir = await secretsFolder();
    const folder = join(dir, 'warehouse');
    await writeKubernetesSecret(folder, { password: 'listed-version' });
    const listed = await createFileProvider({ dir }).parametersOf('warehouse');

    await writeKubernetesSecret(folder, { password: 'swapped-in' });

    expect(await listed?.get('password')?.read()).toBe('swapped-in');
  });

  it('picks up a plain file rewritten in place', async () => {
    const dir = await secretsFolder();
    await mkdir(join(dir, 'warehouse'));
    await writeFile(join(dir, 'warehouse', 'password'), 'first-one');
    const provider = createFileProvider({ dir });
    expect(await valuesOf(provider, 'warehouse')).toEqual({ password: 'first-one' });

    await writeFile(join(dir, 'warehouse', 'password'), 'second-1');

    expect(await valuesOf(provider, 'warehouse')).toEqual({ password: 'second-1' });
  });

  it('has nothing for a gateway without a folder or whose name would leave the folder', async () => {
    const dir = await secretsFolder();
    await writeFile(join(dir, 'password'), 'not for a gateway');
    const provider = createFileProvider({ dir });

    expect(await provider.parametersOf('absent')).toBeUndefined();
    expect(await provider.parametersOf('..')).toBeUndefined();
    expect(await provider.parametersOf('../x')).toBeUndefined();
  });

  it('names the gateway, the parameter and the file, not the value, when a file cannot be read', async () => {
    const dir = await secretsFolder();
    await mkdir(join(dir, 'warehouse'));
    await writeFile(join(dir, 'warehouse', 'password'), 'vanishing-secret');
    const listed = await createFileProvider({ dir }).parametersOf('warehouse');
    await rm(join(dir, 'warehouse', 'password'));

    const error = await errorOf(listed?.get('password')?.read() ?? Promise.resolve());

    expect(error.code).toBe('secret_unresolved');
    expect(error.message).toContain("Gateway 'warehouse'");
    expect(error.message).toContain("'password'");
    expect(error.message).toContain(join(dir, 'warehouse', 'password'));
    expect(error.message).not.toContain('vanishing-secret');
  });

  it('reports a secrets folder that does not exist', async () => {
    const dir = join(await secretsFolder(), 'not-mounted');

    const error = await errorOf(createFileProvider({ dir }).parametersOf('warehouse'));

    expect(error.code).toBe('secret_unresolved');
    expect(error.message).toContain(dir);
    expect(error.message).toContain('SLUICE_GATEWAY_SECRETS_DIR');
  });
});
