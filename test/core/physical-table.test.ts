import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SluiceError } from '../../src/core/errors.js';
import {
  fitIdentifier,
  IDENTIFIER_LIMIT_BYTES,
  physicalTableOf,
  utf8Length,
} from '../../src/core/physical-table.js';

const POSTGRES = IDENTIFIER_LIMIT_BYTES.postgres;

describe('the physical table of a version', () => {
  it('is sluice__<schema>.<schema>__<name>__<version>', () => {
    expect(physicalTableOf('shop.orders', '6d9eab5a2bd6', undefined)).toEqual({
      schema: 'sluice__shop',
      name: 'shop__orders__6d9eab5a2bd6',
    });
  });

  it('uses the default schema for a name without one', () => {
    expect(physicalTableOf('orders', 'abc', undefined)).toEqual({
      schema: 'sluice__default',
      name: 'default__orders__abc',
    });
  });

  it('uses the schema and name of a three-part name', () => {
    expect(physicalTableOf('warehouse.shop.orders', 'abc', undefined)).toEqual({
      schema: 'sluice__shop',
      name: 'shop__orders__abc',
    });
  });

  it('leaves names within PostgreSQL’s limit as they are', () => {
    expect(physicalTableOf('shop.orders', '6d9eab5a2bd6', POSTGRES)).toEqual(
      physicalTableOf('shop.orders', '6d9eab5a2bd6', undefined),
    );
  });

  it('knows PostgreSQL’s limit and that DuckDB has none', () => {
    expect(IDENTIFIER_LIMIT_BYTES).toEqual({ postgres: 63, duckdb: undefined });
  });
});

describe('shortening a name past PostgreSQL’s 63 bytes', () => {
  const longName = `shop.${'customer_lifetime_value_'.repeat(3)}by_country`;

  it('keeps a readable prefix and ends with __ and 12 hex characters of SHA-256', () => {
    const table = physicalTableOf(longName, '6d9eab5a2bd6', POSTGRES);

    expect(table.schema).toBe('sluice__shop');
    expect(table.name).toBe('shop__customer_lifetime_value_customer_lifetime_v__dd996316e112');
    expect(utf8Length(table.name)).toBe(63);
  });

  it('gives the same name every time', () => {
    expect(physicalTableOf(longName, 'abc', POSTGRES)).toEqual(
      physicalTableOf(longName, 'abc', POSTGRES),
    );
    expect(fitIdentifier('x'.repeat(100), 63)).toBe(`${'x'.repeat(49)}__09ecb6ebc8bc`);
  });

  it('keeps names that share their first 63 bytes apart, versions included', () => {
    const names = [
      physicalTableOf(longName, '000000000001', POSTGRES).name,
      physicalTableOf(longName, '000000000002', POSTGRES).name,
      physicalTableOf(`${longName}_eu`, '000000000001', POSTGRES).name,
    ];

    expect(new Set(names).size).toBe(3);
  });

  it('cuts multi-byte names between characters and stays within 63 bytes', () => {
    const schema = 'données_clients_'.repeat(5);
    const table = physicalTableOf(`${schema}.commandes_été`, '6d9eab5a2bd6', POSTGRES);

    expect(utf8Length(table.schema)).toBeLessThanOrEqual(63);
    expect(utf8Length(table.name)).toBeLessThanOrEqual(63);
    expect(table.schema.startsWith('sluice__données_clients_')).toBe(true);
    expect(table.schema).not.toContain('\uFFFD');
    expect(Buffer.from(table.name, 'utf8').toString('utf8')).toBe(table.name);
  });

  it('never cuts a character of four bytes in half', () => {
    const identifier = `a${'😀'.repeat(30)}`;
    const fitted = fitIdentifier(identifier, 63);

    expect(utf8Length(fitted)).toBeLessThanOrEqual(63);
    expect(fitted).toMatch(/^a(😀)+__[0-9a-f]{12}$/u);
  });

  it('keeps any two different long identifiers apart and within the limit', () => {
    const text = fc.string({ unit: 'grapheme', minLength: 40, maxLength: 120 });
    fc.assert(
      fc.property(text, text, (first, second) => {
        const [a, b] = [fitIdentifier(first, 63), fitIdentifier(second, 63)];
        expect(utf8Length(a)).toBeLessThanOrEqual(63);
        expect(a === b).toBe(first === second);
      }),
    );
  });

  it('refuses a limit too small for a prefix and the hash', () => {
    expect(() => fitIdentifier('x'.repeat(20), 14)).toThrow(SluiceError);
  });
});
