import { describe, expect, it } from 'vitest';
import { bindParameters, zonedTimestampMicros } from '../../../src/engines/duckdb/duckdb-values.js';

describe('DuckDB value conversion', () => {
  it('reads zoned timestamp text as UTC microseconds', () => {
    const utc = (iso: string) => BigInt(Date.parse(iso)) * 1000n;

    expect(zonedTimestampMicros('2024-07-01 08:00:00+02')).toBe(utc('2024-07-01T06:00:00Z'));
    expect(zonedTimestampMicros('2024-07-01T08:00Z')).toBe(utc('2024-07-01T08:00:00Z'));
    expect(zonedTimestampMicros('2024-07-01 08:00:00.123456-03:30')).toBe(
      utc('2024-07-01T11:30:00Z') + 123_456n,
    );
  });

  it('leaves timestamp text without an offset to DuckDB', () => {
    expect(zonedTimestampMicros('2024-07-01 08:00:00')).toBeUndefined();
    expect(zonedTimestampMicros('yesterday')).toBeUndefined();
  });

  it('binds whole numbers by size and refuses values DuckDB cannot take', () => {
    const bound = bindParameters([1, 2 ** 40, 2.5, 2n ** 70n]);

    expect(bound.types.map(String)).toEqual(['INTEGER', 'BIGINT', 'DOUBLE', 'HUGEINT']);
    expect(bound.values).toEqual([1, 2n ** 40n, 2.5, 2n ** 70n]);
    expect(() => bindParameters([{ a: 1 }])).toThrow('Parameter $1 is an object');
  });
});
