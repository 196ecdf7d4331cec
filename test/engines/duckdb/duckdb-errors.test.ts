import { describe, expect, it } from 'vitest';
import { scrubParameters, toSluiceError } from '../../../src/engines/duckdb/duckdb-errors.js';

describe('DuckDB error messages', () => {
  it('replaces quoted and long bare parameter values with their placeholders', () => {
    const message = "Could not convert string 'hunter2' to INT32; saw hunter2 and 42 and '7'";

    expect(scrubParameters(message, ['hunter2', 7, 42])).toBe(
      "Could not convert string '$1' to INT32; saw $1 and 42 and '$2'",
    );
  });

  it('keeps short bare values, which would match unrelated text', () => {
    expect(scrubParameters('LINE 1: SELECT $1::INTEGER', ['1'])).toBe('LINE 1: SELECT $1::INTEGER');
  });

  it('scrubs the cause as well as the message', () => {
    const error = toSluiceError(new Error("Conversion Error: Could not convert string 'abc123'"), {
      params: ['abc123'],
    });

    expect(error.code).toBe('engine_error');
    expect(error.message).not.toContain('abc123');
    expect((error.cause as Error).message).not.toContain('abc123');
  });

  it('classifies missing tables, unknown types, interrupts and write conflicts', () => {
    const codeOf = (message: string) => toSluiceError(new Error(message)).code;

    expect(codeOf('Catalog Error: Table with name t does not exist!')).toBe('table_missing');
    expect(codeOf('Catalog Error: Type with name FOO does not exist!')).toBe(
      'engine_type_rejected',
    );
    expect(codeOf('INTERRUPT Error: Interrupted!')).toBe('query_cancelled');
    expect(
      toSluiceError(new Error('TransactionContext Error: write-write conflict')).retryable,
    ).toBe(true);
  });
});
