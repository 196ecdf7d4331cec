import { describe, expect, it } from 'vitest';
import { parseDuration } from '../../src/core/duration.js';

describe('parseDuration', () => {
  it('reads a count and a unit written out, singular or plural', () => {
    expect(parseDuration('7 days', 'x')).toBe(7 * 86_400_000);
    expect(parseDuration('1 hour', 'x')).toBe(3_600_000);
    expect(parseDuration('45 Seconds', 'x')).toBe(45_000);
  });

  it('reads the short forms', () => {
    expect(parseDuration('30s', 'x')).toBe(30_000);
    expect(parseDuration('5m', 'x')).toBe(300_000);
    expect(parseDuration('12h', 'x')).toBe(43_200_000);
    expect(parseDuration('2w', 'x')).toBe(2 * 604_800_000);
  });

  it('refuses zero, fractions and unknown units, naming what was given', () => {
    for (const text of ['0s', '1.5 hours', '3 fortnights', '10', 'ms']) {
      expect(() => parseDuration(text, '--lease')).toThrow(`--lease '${text}' is not a duration`);
    }
  });
});
