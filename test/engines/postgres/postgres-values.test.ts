import { describe, expect, it } from 'vitest';
import { csvField, csvLine } from '../../../src/engines/postgres/postgres-csv.js';
import { normaliseTypeName } from '../../../src/engines/postgres/postgres-types.js';
import {
  parseInt8,
  parseTimestampAsUtc,
  toPostgresParam,
} from '../../../src/engines/postgres/postgres-values.js';

describe('PostgreSQL value mapping', () => {
  it('reads a timestamp without time zone as UTC, keeping milliseconds', () => {
    expect(parseTimestampAsUtc('2024-01-02 03:04:05.678901')).toEqual(
      new Date('2024-01-02T03:04:05.678Z'),
    );
    expect(parseTimestampAsUtc('0099-12-31 23:59:59')).toEqual(new Date('0099-12-31T23:59:59Z'));
  });

  it('leaves infinite timestamps as text', () => {
    expect(parseTimestampAsUtc('infinity')).toBe('infinity');
    expect(parseTimestampAsUtc('-infinity')).toBe('-infinity');
  });

  it('reads int8 as a number only when it is exactly representable', () => {
    expect(parseInt8('9007199254740991')).toBe(9007199254740991);
    expect(parseInt8('9007199254740992')).toBe('9007199254740992');
    expect(parseInt8('-9223372036854775808')).toBe('-9223372036854775808');
  });

  it('sends Dates as UTC ISO text and bigints as decimal text', () => {
    expect(toPostgresParam(new Date('2024-01-01T00:00:00Z'), 1)).toBe('2024-01-01T00:00:00.000Z');
    expect(toPostgresParam(12345678901234567890n, 1)).toBe('12345678901234567890');
    expect(() => toPostgresParam(new Date(Number.NaN), 2)).toThrow(/Parameter \$2/);
  });
});

describe('PostgreSQL COPY encoding', () => {
  it('writes null as an empty field and the empty string quoted', () => {
    expect(csvLine([null, '', undefined], 3, 1)).toBe(',"",\n');
  });

  it('quotes strings and doubles their quotes', () => {
    expect(csvField('say "hi", then\ngo')).toBe('"say ""hi"", then\ngo"');
    expect(csvField('\\.')).toBe('"\\."');
  });

  it('writes Dates, booleans, numbers and bytes as PostgreSQL reads them', () => {
    expect(csvLine([new Date('2024-01-01T00:00:00Z'), true, 1.5, 7n], 4, 1)).toBe(
      '2024-01-01T00:00:00.000Z,true,1.5,7\n',
    );
    expect(csvField(Uint8Array.of(1, 255))).toBe('\\x01ff');
  });

  it('refuses a row whose width differs from the column list', () => {
    expect(() => csvLine([1, 2], 3, 7)).toThrow(/Row 7 has 2 values but 3 columns/);
  });
});

describe('PostgreSQL type names', () => {
  it('shortens format_type names the way result columns are named', () => {
    expect(normaliseTypeName('timestamp without time zone')).toBe('TIMESTAMP');
    expect(normaliseTypeName('timestamp(3) with time zone')).toBe('TIMESTAMPTZ(3)');
    expect(normaliseTypeName('character varying(20)')).toBe('VARCHAR(20)');
    expect(normaliseTypeName('character(1)[]')).toBe('CHAR(1)[]');
    expect(normaliseTypeName('numeric(10,2)')).toBe('NUMERIC(10,2)');
    expect(normaliseTypeName('double precision')).toBe('DOUBLE PRECISION');
  });
});
