import { describe, expect, it } from 'vitest';
import type { SluiceError } from '../../src/core/errors.js';
import { readGatewayCredentialsConfig } from '../../src/gateway/gateway-credentials-config.js';

function errorReading(env: NodeJS.ProcessEnv): SluiceError {
  try {
    readGatewayCredentialsConfig(env);
  } catch (error) {
    return error as SluiceError;
  }
  throw new Error('expected the configuration to be refused');
}

describe('the gateway credentials configuration', () => {
  it('asks variables, then sluice.yaml when no secrets folder is set', () => {
    expect(readGatewayCredentialsConfig({})).toEqual({
      providers: ['env', 'project'],
      secretsDir: undefined,
      secretsGateway: undefined,
    });
  });

  it('asks variables, files, then sluice.yaml when a secrets folder is set', () => {
    const config = readGatewayCredentialsConfig({ SLUICE_GATEWAY_SECRETS_DIR: '/run/secrets' });

    expect(config.providers).toEqual(['env', 'files', 'project']);
    expect(config.secretsDir).toBe('/run/secrets');
  });

  it('takes the order given, ignoring spaces and case', () => {
    const config = readGatewayCredentialsConfig({
      SLUICE_GATEWAY_PROVIDERS: ' Files , env ',
      SLUICE_GATEWAY_SECRETS_DIR: '/run/secrets/warehouse',
      SLUICE_GATEWAY_SECRETS_GATEWAY: 'warehouse',
    });

    expect(config).toEqual({
      providers: ['files', 'env'],
      secretsDir: '/run/secrets/warehouse',
      secretsGateway: 'warehouse',
    });
  });

  it('treats a blank variable as not set', () => {
    const config = readGatewayCredentialsConfig({
      SLUICE_GATEWAY_PROVIDERS: '  ',
      SLUICE_GATEWAY_SECRETS_DIR: '',
    });

    expect(config.providers).toEqual(['env', 'project']);
  });

  it('refuses an unknown provider and suggests the closest name', () => {
    const error = errorReading({ SLUICE_GATEWAY_PROVIDERS: 'env,file' });

    expect(error.code).toBe('config_invalid');
    expect(error.message).toContain("unknown provider 'file'");
    expect(error.message).toContain("Did you mean 'files'?");
  });

  it('refuses a provider listed twice', () => {
    expect(errorReading({ SLUICE_GATEWAY_PROVIDERS: 'env,project,env' }).message).toContain(
      "names 'env' twice",
    );
  });

  it('refuses a list with no provider', () => {
    expect(errorReading({ SLUICE_GATEWAY_PROVIDERS: ',' }).message).toContain('names no provider');
  });

  it('refuses the files provider without a secrets folder', () => {
    const error = errorReading({ SLUICE_GATEWAY_PROVIDERS: 'files' });

    expect(error.message).toContain('SLUICE_GATEWAY_SECRETS_DIR is not set');
  });

  it('refuses a relative secrets folder', () => {
    const error = errorReading({ SLUICE_GATEWAY_SECRETS_DIR: 'secrets' });

    expect(error.message).toContain("relative path 'secrets'");
  });

  it('refuses a flat-layout gateway without a secrets folder', () => {
    const error = errorReading({ SLUICE_GATEWAY_SECRETS_GATEWAY: 'warehouse' });

    expect(error.message).toContain('SLUICE_GATEWAY_SECRETS_DIR is not');
  });
});
