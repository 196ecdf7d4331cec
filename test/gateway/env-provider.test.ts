import { describe, expect, it } from 'vitest';
import {
  connectionVariableName,
  createEnvProvider,
  gatewayVariablePrefix,
} from '../../src/gateway/providers/env-provider.js';
import { errorOf } from '../helpers/errors.js';

async function valuesOf(env: NodeJS.ProcessEnv, gateway: string) {
  const parameters = await createEnvProvider(env).parametersOf(gateway);
  if (parameters === undefined) return undefined;
  const values: Record<string, unknown> = {};
  for (const [name, parameter] of parameters) values[name] = await parameter.read();
  return values;
}

describe('the environment variable provider', () => {
  it('writes the gateway name upper-cased with - and . as underscores', () => {
    expect(gatewayVariablePrefix('warehouse-eu.prod')).toBe(
      'SLUICE__GATEWAYS__WAREHOUSE_EU_PROD__CONNECTION__',
    );
    expect(connectionVariableName('local', 'application_name')).toBe(
      'SLUICE__GATEWAYS__LOCAL__CONNECTION__APPLICATION_NAME',
    );
  });

  it('gives lower-case parameter names from the variables of the gateway only', async () => {
    const env = {
      SLUICE__GATEWAYS__WAREHOUSE_EU_PROD__CONNECTION__PASSWORD: 'eu-secret',
      SLUICE__GATEWAYS__WAREHOUSE_EU_PROD__CONNECTION__APPLICATION_NAME: 'nightly',
      SLUICE__GATEWAYS__WAREHOUSE__CONNECTION__PASSWORD: 'other-gateway',
      PATH: '/usr/bin',
    };

    expect(await valuesOf(env, 'warehouse-eu.prod')).toEqual({
      password: 'eu-secret',
      application_name: 'nightly',
    });
    expect(await valuesOf(env, 'warehouse')).toEqual({ password: 'other-gateway' });
  });

  it('matches variable names without regard to case', async () => {
    const env = { sluice__gateways__Warehouse__connection__User: 'loader' };

    expect(await valuesOf(env, 'WAREHOUSE')).toEqual({ user: 'loader' });
  });

  it('names the variable a parameter comes from', async () => {
    const env = { SLUICE__GATEWAYS__WH__CONNECTION__HOST: 'db.internal' };

    const parameters = await createEnvProvider(env).parametersOf('wh');

    expect(parameters?.get('host')?.origin).toBe(
      'environment variable SLUICE__GATEWAYS__WH__CONNECTION__HOST',
    );
  });

  it('keeps an empty variable as an empty value', async () => {
    expect(await valuesOf({ SLUICE__GATEWAYS__WH__CONNECTION__PASSWORD: '' }, 'wh')).toEqual({
      password: '',
    });
  });

  it('has nothing for a gateway without variables', async () => {
    expect(await valuesOf({ SLUICE__GATEWAYS__WH__CONNECTION__HOST: 'db' }, 'other')).toBe(
      undefined,
    );
  });

  it('refuses two spellings of one parameter, naming both variables and neither value', async () => {
    const env = {
      SLUICE__GATEWAYS__WH__CONNECTION__PASSWORD: 'upper-secret',
      sluice__gateways__wh__connection__password: 'lower-secret',
    };

    const error = await errorOf(createEnvProvider(env).parametersOf('wh'));

    expect(error.code).toBe('config_invalid');
    expect(error.message).toContain('SLUICE__GATEWAYS__WH__CONNECTION__PASSWORD');
    expect(error.message).toContain('sluice__gateways__wh__connection__password');
    expect(error.message).not.toContain('upper-secret');
    expect(error.message).not.toContain('lower-secret');
  });

  it('refuses a variable that names no parameter', async () => {
    const env = { SLUICE__GATEWAYS__WH__CONNECTION__: 'dangling-value' };

    const error = await errorOf(createEnvProvider(env).parametersOf('wh'));

    expect(error.message).toContain('SLUICE__GATEWAYS__WH__CONNECTION__PASSWORD');
    expect(error.message).not.toContain('dangling-value');
  });
});
