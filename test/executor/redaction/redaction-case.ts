import { expect } from 'vitest';
import { redactDataValues } from '../../../src/executor/redaction/redact-data-values.js';
import { REDACTED } from '../../../src/executor/redaction/redaction-rule.js';

/** One failing statement and what its error text must lose and keep once redacted. */
export type RedactionCase = {
  /** What the test shows, completing "redacts …" or "leaves …". */
  readonly behaviour: string;
  readonly sql: string;
  /** Data values the engine quotes; empty when the message carries none. */
  readonly values: readonly string[];
  /** Error kinds, constraint, table and column names that must survive. */
  readonly names: readonly string[];
};

/**
 * Checks the engine's text before and after redaction: each value is there before and gone after,
 * each name is there in both, and a text without values is left exactly as it was. Returns the
 * redacted text.
 */
export function expectRedacted(before: string, testCase: RedactionCase): string {
  const after = redactDataValues(before);

  for (const name of testCase.names) {
    expect(before).toContain(name);
    expect(after).toContain(name);
  }
  if (testCase.values.length === 0) {
    expect(after).toBe(before);
    return after;
  }
  for (const value of testCase.values) {
    expect(before).toContain(value);
    expect(after).not.toContain(value);
  }
  expect(after).toContain(REDACTED);
  expect(redactDataValues(after)).toBe(after);
  return after;
}
