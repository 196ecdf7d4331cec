import { describe, expect, it } from 'vitest';
import { classify, inferSeedType, seedTypeName } from '../../src/executor/seeds/seed-types.js';

describe('seed type inference', () => {
  it('classifies each kind of value', () => {
    expect(classify('42')).toBe('integer');
    expect(classify('-7')).toBe('integer');
    expect(classify('4.50')).toBe('double');
    expect(classify('-.5')).toBe('double');
    expect(classify('1e-3')).toBe('double');
    expect(classify('TRUE')).toBe('boolean');
    expect(classify('false')).toBe('boolean');
    expect(classify('2024-02-29')).toBe('date');
    expect(classify('2024-01-01 10:30:00')).toBe('timestamp');
    expect(classify('2024-01-01T10:30:00.123456')).toBe('timestamp');
    expect(classify('2024-01-01 10:30')).toBe('timestamp');
    expect(classify('Ada')).toBe('text');
  });

  it('keeps values the engines would not read as the type as text', () => {
    expect(classify('2023-02-29')).toBe('text');
    expect(classify('2024-13-01')).toBe('text');
    expect(classify('2024-01-01 24:00:00')).toBe('text');
    expect(classify('2024-01-01 10:00:00+02:00')).toBe('text');
    expect(classify('9223372036854775807')).toBe('integer');
    expect(classify('9223372036854775808')).toBe('text');
    expect(classify(' 5')).toBe('text');
    expect(classify('yes')).toBe('text');
    expect(classify('NaN')).toBe('text');
  });

  it('widens integers to doubles and dates to timestamps, and anything else to text', () => {
    expect(inferSeedType(['1', '2.5'])).toBe('double');
    expect(inferSeedType(['2024-01-01', '2024-01-02 03:00:00'])).toBe('timestamp');
    expect(inferSeedType(['1', 'true'])).toBe('text');
    expect(inferSeedType(['2024-01-01', '3'])).toBe('text');
  });

  it('ignores empty values and makes an all-empty column text', () => {
    expect(inferSeedType(['', '7', ''])).toBe('integer');
    expect(inferSeedType(['', ''])).toBe('text');
    expect(inferSeedType([])).toBe('text');
  });

  it("names the types in each engine's words", () => {
    expect(seedTypeName('double', 'duckdb')).toBe('DOUBLE');
    expect(seedTypeName('double', 'postgres')).toBe('DOUBLE PRECISION');
    expect(seedTypeName('text', 'duckdb')).toBe('VARCHAR');
    expect(seedTypeName('text', 'postgres')).toBe('TEXT');
    expect(seedTypeName('integer', 'postgres')).toBe('BIGINT');
  });
});
