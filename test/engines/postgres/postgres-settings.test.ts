import { describe, expect, it } from 'vitest';
import {
  readPostgresSettings,
  sslAttempts,
} from '../../../src/engines/postgres/postgres-settings.js';

function read(settings: Record<string, string | number | boolean>) {
  return readPostgresSettings({ gateway: 'warehouse', type: 'postgres', settings, baseDir: '.' });
}

describe('PostgreSQL gateway settings', () => {
  it('accepts a port written as text and applies the defaults', () => {
    const settings = read({ host: 'db', port: '6543', database: 'shop', user: 'sluice' });

    expect(settings).toMatchObject({
      port: 6543,
      sslMode: 'disable',
      applicationName: 'sluice',
      password: undefined,
    });
  });

  it('refuses a port that is not a number without echoing the password', () => {
    const settings = { host: 'db', port: 'x', database: 'shop', user: 'u', password: 'p4ss-w0rd' };

    expect(() => read(settings)).toThrowError(
      expect.objectContaining({
        code: 'config_invalid',
        message: expect.stringContaining("'port'"),
      }),
    );
    expect(() => read(settings)).not.toThrow(/p4ss-w0rd/);
  });

  it('maps each sslmode to the TLS attempts node-postgres makes', () => {
    expect(sslAttempts('disable')).toEqual([false]);
    expect(sslAttempts('prefer')).toEqual([{ rejectUnauthorized: false }, false]);
    expect(sslAttempts('allow')).toEqual([false, { rejectUnauthorized: false }]);
    expect(sslAttempts('require')).toEqual([{ rejectUnauthorized: false }]);
    expect(sslAttempts('verify-full')).toEqual([{ rejectUnauthorized: true }]);
    expect(sslAttempts('verify-ca')[0]).toMatchObject({ rejectUnauthorized: true });
  });
});
