import { describe, expect, it } from 'vitest';
import { SluiceError } from '../../src/core/errors.js';
import { parseProjectConfig } from '../../src/project/project-config.js';

function configError(text: string): SluiceError {
  try {
    parseProjectConfig('sluice.yaml', text);
  } catch (error) {
    if (error instanceof SluiceError) return error;
    throw error;
  }
  throw new Error('expected the configuration to be rejected');
}

describe('sluice.yaml', () => {
  it('reads gateways, defaults and variables', () => {
    const config = parseProjectConfig(
      'sluice.yaml',
      [
        'name: shop',
        'gateways:',
        '  warehouse:',
        '    connection:',
        '      type: postgres',
        '      host: localhost',
        '      database: analytics',
        '      user: sluice',
        '      password: ${env:WAREHOUSE_PASSWORD}',
        'model_defaults:',
        "  cron: '@hourly'",
        '  start: 2024-01-01',
        'variables:',
        '  Min_Amount: 10',
      ].join('\n'),
    );

    expect(config.defaultGateway).toBe('warehouse');
    expect(config.gateways.get('warehouse')).toEqual({
      name: 'warehouse',
      type: 'postgres',
      connection: {
        host: 'localhost',
        database: 'analytics',
        user: 'sluice',
        password: '${env:WAREHOUSE_PASSWORD}',
      },
    });
    expect(config.modelDefaults.dialect).toBe('postgres');
    expect(config.modelDefaults.cron).toBe('@hourly');
    expect(config.modelDefaults.start).toBe('2024-01-01');
    expect(config.variables).toEqual({ min_amount: 10 });
  });

  it('defaults to an embedded DuckDB gateway named local', () => {
    const config = parseProjectConfig('sluice.yaml', 'name: shop\n');

    expect(config.defaultGateway).toBe('local');
    expect(config.gateways.get('local')?.type).toBe('duckdb');
    expect(config.modelDefaults.dialect).toBe('duckdb');
  });

  it('refuses a literal password without repeating it', () => {
    const error = configError(
      [
        'name: shop',
        'gateways:',
        '  warehouse:',
        '    connection:',
        '      type: postgres',
        '      host: localhost',
        '      database: analytics',
        '      user: sluice',
        '      password: hunter2-very-secret',
      ].join('\n'),
    );

    expect(error.code).toBe('secret_literal');
    expect(error.location).toEqual({ file: 'sluice.yaml', line: 9, column: 7 });
    expect(error.message).toContain("Gateway 'warehouse' sets 'password' to a literal value");
    expect(error.message).toContain('${env:WAREHOUSE_PASSWORD}');
    expect(error.describe()).not.toContain('hunter2');
  });

  it('names an unknown key with its line and the closest valid key', () => {
    const error = configError('name: shop\nmodel_defaults:\n  crn: "@daily"\n');

    expect(error.code).toBe('config_invalid');
    expect(error.location).toEqual({ file: 'sluice.yaml', line: 3, column: 3 });
    expect(error.message).toContain("Unknown key 'crn' at 'model_defaults'");
    expect(error.message).toContain("Did you mean 'cron'?");
  });

  it('names a missing required connection setting', () => {
    const error = configError(
      'name: shop\ngateways:\n  pg:\n    connection:\n      type: postgres\n      host: h\n      user: u\n',
    );

    expect(error.message).toContain("'gateways.pg.connection.database'");
    expect(error.message).toContain('required');
    expect(error.location?.line).toBe(4);
  });

  it('reports a YAML syntax error with its position', () => {
    const error = configError('name: shop\ngateways: [unclosed\n');

    expect(error.code).toBe('config_invalid');
    expect(error.message).toContain('sluice.yaml is not valid YAML');
    expect(error.location?.line).toBeGreaterThanOrEqual(2);
  });

  it('rejects a default gateway that is not defined', () => {
    const error = configError('name: shop\ndefault_gateway: prod\n');

    expect(error.message).toContain("default_gateway 'prod' is not one of the gateways");
    expect(error.location).toEqual({ file: 'sluice.yaml', line: 2, column: 1 });
  });
});
