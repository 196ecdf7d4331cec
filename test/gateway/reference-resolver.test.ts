import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SluiceError } from '../../src/core/errors.js';
import { resolveGatewaySettings } from '../../src/gateway/reference-resolver.js';
import type { GatewayConfig } from '../../src/project/project-config.js';
import { tempFolder } from './kubernetes-secret.js';

const folders: string[] = [];

afterEach(async () => {
  for (const folder of folders.splice(0)) await rm(folder, { recursive: true, force: true });
});

function warehouse(connection: GatewayConfig['connection']): GatewayConfig {
  return { name: 'warehouse', type: 'postgres', connection };
}

function errorResolving(gateway: GatewayConfig, env: NodeJS.ProcessEnv, baseDir: string) {
  try {
    resolveGatewaySettings(gateway, { env, baseDir });
  } catch (error) {
    if (error instanceof SluiceError) return error;
    throw error;
  }
  throw new Error('expected the settings to be refused');
}

describe('resolving references in sluice.yaml', () => {
  it('replaces variable and file references and keeps other values', async () => {
    const root = await tempFolder();
    folders.push(root);
    await mkdir(join(root, 'secrets'));
    await writeFile(join(root, 'secrets', 'password'), 'file-secret\n');
    const gateway = warehouse({
      host: 'db',
      port: 5432,
      user: '${env:PG_USER}',
      password: '${file:secrets/password}',
    });

    const settings = resolveGatewaySettings(gateway, { env: { PG_USER: 'loader' }, baseDir: root });

    expect(settings).toEqual({ host: 'db', port: 5432, user: 'loader', password: 'file-secret' });
  });

  it('names the variable of a reference that is not set', () => {
    const error = errorResolving(warehouse({ password: '${env:PG_PASSWORD}' }), {}, '/');

    expect(error.code).toBe('secret_unresolved');
    expect(error.message).toContain("Gateway 'warehouse' reads 'password'");
    expect(error.message).toContain('PG_PASSWORD');
  });

  it('names the file of a reference that cannot be read, without its content', async () => {
    const root = await tempFolder();
    folders.push(root);
    await mkdir(join(root, 'password'));
    await writeFile(join(root, 'password', 'inside'), 'folder-secret');

    const error = errorResolving(warehouse({ password: '${file:password}' }), {}, root);

    expect(error.code).toBe('secret_unresolved');
    expect(error.message).toContain(join(root, 'password'));
    expect(error.message).not.toContain('folder-secret');
  });
});
