import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { createEngineAdapter } from '../../src/engines/create-engine-adapter.js';
import { createGatewayCredentials } from '../../src/gateway/gateway-credentials.js';
import { parseProjectConfig } from '../../src/project/project-config.js';
import { postgresTestSettings } from '../helpers/engines.js';
import { errorOf } from '../helpers/errors.js';
import { tempFolder, writeKubernetesSecret } from './kubernetes-secret.js';

const PROJECT = `
name: shop
gateways:
  warehouse:
    connection:
      type: postgres
      host: yaml-host
      port: 5432
      database: shop
      user: yaml-user
      password: \${env:PG_PASSWORD}
  local:
    connection:
      type: duckdb
`;

const { gateways } = parseProjectConfig('sluice.yaml', PROJECT);
const folders: string[] = [];

async function secretsFolder(): Promise<string> {
  const folder = await tempFolder();
  folders.push(folder);
  return folder;
}

afterEach(async () => {
  for (const folder of folders.splice(0)) await rm(folder, { recursive: true, force: true });
});

async function writeSecretFiles(dir: string, files: Record<string, string>): Promise<void> {
  await mkdir(join(dir, 'warehouse'), { recursive: true });
  for (const [name, text] of Object.entries(files))
    await writeFile(join(dir, 'warehouse', name), text);
}

describe('gateway credentials', () => {
  it('takes each parameter from variables, then files, then sluice.yaml by default', async () => {
    const dir = await secretsFolder();
    await writeSecretFiles(dir, {
      host: 'file-host',
      user: 'file-user',
      password: 'file-secret\n',
    });
    const env = {
      SLUICE_GATEWAY_SECRETS_DIR: dir,
      SLUICE__GATEWAYS__WAREHOUSE__CONNECTION__HOST: 'env-host',
    };

    const resolved = await createGatewayCredentials({ gateways, baseDir: dir, env }).resolve(
      'warehouse',
    );

    expect(resolved.settings).toEqual({
      host: 'env-host',
      port: 5432,
      database: 'shop',
      user: 'file-user',
      password: 'file-secret',
    });
    expect(resolved.origins).toEqual({
      host: 'environment variable SLUICE__GATEWAYS__WAREHOUSE__CONNECTION__HOST',
      port: 'sluice.yaml',
      database: 'sluice.yaml',
      user: `file ${join(dir, 'warehouse', 'user')}`,
      password: `file ${join(dir, 'warehouse', 'password')}`,
    });
    expect(resolved).toMatchObject({ gateway: 'warehouse', type: 'postgres', baseDir: dir });
  });

  it('asks the providers in the configured order and adds parameters sluice.yaml lacks', async () => {
    const dir = await secretsFolder();
    await writeSecretFiles(dir, { user: 'file-user', sslmode: 'require' });
    const env = {
      SLUICE_GATEWAY_PROVIDERS: 'project,files,env',
      SLUICE_GATEWAY_SECRETS_DIR: dir,
      SLUICE__GATEWAYS__WAREHOUSE__CONNECTION__USER: 'env-user',
      SLUICE__GATEWAYS__WAREHOUSE__CONNECTION__APPLICATION_NAME: 'env-app',
      PG_PASSWORD: 'referenced-secret',
    };

    const credentials = createGatewayCredentials({ gateways, baseDir: dir, env });
    const resolved = await credentials.resolve('warehouse');

    expect(credentials.providerNames).toEqual(['project', 'files', 'env']);
    expect(resolved.settings).toEqual({
      host: 'yaml-host',
      port: 5432,
      database: 'shop',
      user: 'yaml-user',
      password: 'referenced-secret',
      sslmode: 'require',
      application_name: 'env-app',
    });
    expect(resolved.origins.password).toBe('environment variable PG_PASSWORD');
  });

  it("names the gateway, parameter and variable when a chosen reference's variable is not set", async () => {
    const error = await errorOf(
      createGatewayCredentials({ gateways, baseDir: '/', env: {} }).resolve('warehouse'),
    );

    expect(error.code).toBe('secret_unresolved');
    expect(error.message).toContain("Gateway 'warehouse' reads 'password'");
    expect(error.message).toContain('environment variable PG_PASSWORD');
  });

  it('keeps plain sluice.yaml values but follows no reference without the project provider', async () => {
    const withoutPassword = { SLUICE_GATEWAY_PROVIDERS: 'env', PG_PASSWORD: 'never-used' };
    const error = await errorOf(
      createGatewayCredentials({ gateways, baseDir: '/', env: withoutPassword }).resolve(
        'warehouse',
      ),
    );
    expect(error.code).toBe('secret_unresolved');
    expect(error.message).toContain("sets 'password' in sluice.yaml by a reference");
    expect(error.message).not.toContain('never-used');

    const env = { ...withoutPassword, SLUICE__GATEWAYS__WAREHOUSE__CONNECTION__PASSWORD: 'env-pw' };
    const resolved = await createGatewayCredentials({ gateways, baseDir: '/', env }).resolve(
      'warehouse',
    );
    expect(resolved.settings).toMatchObject({ host: 'yaml-host', password: 'env-pw' });
  });

  it('uses a rotated Kubernetes Secret on the next resolve', async () => {
    const dir = await secretsFolder();
    await writeKubernetesSecret(join(dir, 'warehouse'), { password: 'before-rotation' });
    const credentials = createGatewayCredentials({
      gateways,
      baseDir: dir,
      env: { SLUICE_GATEWAY_SECRETS_DIR: dir },
    });
    expect((await credentials.resolve('warehouse')).settings.password).toBe('before-rotation');

    await writeKubernetesSecret(join(dir, 'warehouse'), { password: 'after-rotation' });

    expect((await credentials.resolve('warehouse')).settings.password).toBe('after-rotation');
  });

  it('refuses an engine type from a provider', async () => {
    const env = { SLUICE__GATEWAYS__LOCAL__CONNECTION__TYPE: 'postgres' };

    const error = await errorOf(
      createGatewayCredentials({ gateways, baseDir: '/', env }).resolve('local'),
    );

    expect(error.code).toBe('config_invalid');
    expect(error.message).toContain('SLUICE__GATEWAYS__LOCAL__CONNECTION__TYPE');
  });

  it('refuses a gateway that sluice.yaml does not define and suggests the closest', async () => {
    const error = await errorOf(
      createGatewayCredentials({ gateways, baseDir: '/', env: {} }).resolve('warehous'),
    );

    expect(error.code).toBe('config_invalid');
    expect(error.message).toContain("Did you mean 'warehouse'?");
  });

  it('opens a DuckDB database whose file is given by a variable', async () => {
    const dir = await secretsFolder();
    const env = { SLUICE__GATEWAYS__LOCAL__CONNECTION__DATABASE: 'from-env.duckdb' };
    const resolved = await createGatewayCredentials({ gateways, baseDir: dir, env }).resolve(
      'local',
    );

    const adapter = await createEngineAdapter(resolved);
    try {
      await adapter.execute('CREATE TABLE marker AS SELECT 42 AS answer');
    } finally {
      await adapter.close();
    }

    expect((await stat(join(dir, 'from-env.duckdb'))).isFile()).toBe(true);
  });

  it.skipIf(inject('postgresSkipReason') !== '')(
    'opens PostgreSQL with the user and password of a mounted Secret',
    async () => {
      const dir = await secretsFolder();
      const { host, port, database, user, password } = postgresTestSettings();
      await writeKubernetesSecret(join(dir, 'warehouse'), {
        user: `${user}\n`,
        password: `${password ?? 'unused-with-trust'}\n`,
      });
      const env = {
        SLUICE_GATEWAY_SECRETS_DIR: dir,
        SLUICE__GATEWAYS__WAREHOUSE__CONNECTION__HOST: String(host),
        SLUICE__GATEWAYS__WAREHOUSE__CONNECTION__PORT: String(port),
        SLUICE__GATEWAYS__WAREHOUSE__CONNECTION__DATABASE: String(database),
      };
      const resolved = await createGatewayCredentials({ gateways, baseDir: dir, env }).resolve(
        'warehouse',
      );

      const adapter = await createEngineAdapter(resolved);
      try {
        const result = await adapter.query('SELECT current_user AS name');
        expect(result.rows[0]?.name).toBe(user);
      } finally {
        await adapter.close();
      }
    },
  );
});
