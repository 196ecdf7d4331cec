import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { toSluiceError, unreachableError } from '../../../src/engines/postgres/postgres-errors.js';
import type { PostgresSettings } from '../../../src/engines/postgres/postgres-settings.js';

const settings: PostgresSettings = {
  gateway: 'warehouse',
  host: 'db.internal',
  port: 5432,
  database: 'shop',
  user: 'sluice',
  password: 'pa55-word-xyz',
  sslMode: 'disable',
  applicationName: 'sluice',
};

function serverError(code: string, message: string): pg.DatabaseError {
  const error = new pg.DatabaseError(message, message.length, 'error');
  error.code = code;
  return error;
}

describe('PostgreSQL error mapping', () => {
  it('maps SQLSTATEs to Sluice error codes', () => {
    const codes = [
      ['42P01', 'relation "x" does not exist'],
      ['42704', 'type "foo" does not exist'],
      ['57014', 'canceling statement due to user request'],
      ['3D000', 'database "nope" does not exist'],
      ['28P01', 'password authentication failed for user "sluice"'],
      ['08006', 'connection failure'],
      ['42601', 'syntax error at or near "SELEC"'],
    ].map(
      ([code, message]) => toSluiceError(serverError(code ?? '', message ?? ''), settings).code,
    );

    expect(codes).toEqual([
      'table_missing',
      'engine_type_rejected',
      'query_cancelled',
      'engine_unreachable',
      'engine_unreachable',
      'engine_unreachable',
      'engine_error',
    ]);
  });

  it('keeps bound values and the password out of messages and causes', () => {
    const original = serverError('22P02', 'invalid input syntax for type integer: "4111-1111"');

    const error = toSluiceError(original, settings, {
      sql: 'SELECT $1::int',
      params: ['4111-1111'],
    });
    const network = unreachableError(new Error('SASL failed for pa55-word-xyz'), settings);

    expect(error.message).not.toContain('4111');
    expect(error.cause).toMatchObject({ code: '22P02', name: 'PostgresError' });
    expect((error.cause as Error).message).not.toContain('4111');
    expect(network.message).toContain('db.internal:5432/shop');
    expect(network.message).not.toContain('pa55-word-xyz');
  });

  it('names where in the data a COPY failed without quoting the value', () => {
    const original = serverError('22P02', 'invalid input syntax for type integer: "abc"');
    original.where = 'COPY orders, line 3, column id: "abc"';

    const error = toSluiceError(original, settings);

    expect(error.message).toContain('(line 3 of the data, column id)');
    expect(error.message).not.toContain('abc');
  });
});
