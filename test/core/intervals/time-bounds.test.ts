import { describe, expect, it } from 'vitest';
import { SluiceError } from '../../../src/core/errors.js';
import {
  parseTimeBound,
  resolveEndMs,
  resolveModelBounds,
  resolveStartMs,
} from '../../../src/core/intervals/time-bounds.js';

const NOW_MS = Date.parse('2026-03-15T10:30:00Z');
const iso = (ms: number | undefined): string | undefined =>
  ms === undefined ? undefined : new Date(ms).toISOString();

const start = (text: string, nowMs = NOW_MS): string | undefined =>
  iso(resolveStartMs(text, nowMs, 'shop.orders'));
const end = (text: string, nowMs = NOW_MS): string | undefined =>
  iso(resolveEndMs(text, nowMs, 'shop.orders'));

function errorOf(action: () => unknown): SluiceError {
  try {
    action();
  } catch (error) {
    if (error instanceof SluiceError) return error;
    throw error;
  }
  throw new Error('expected a SluiceError');
}

describe('start and end as written in a MODEL header', () => {
  it('reads dates, timestamps and epoch milliseconds as UTC', () => {
    expect(start('2024-01-01')).toBe('2024-01-01T00:00:00.000Z');
    expect(start('2024-01-01 12:30')).toBe('2024-01-01T12:30:00.000Z');
    expect(start('2024-01-01T12:30:00+02:00')).toBe('2024-01-01T10:30:00.000Z');
    expect(start('1704067200000')).toBe('2024-01-01T00:00:00.000Z');
  });

  it('resolves relative forms against now, months and years by the calendar', () => {
    expect(start('now')).toBe('2026-03-15T10:30:00.000Z');
    expect(start('today')).toBe('2026-03-15T00:00:00.000Z');
    expect(start('Yesterday')).toBe('2026-03-14T00:00:00.000Z');
    expect(start('90 minutes ago')).toBe('2026-03-15T09:00:00.000Z');
    expect(start('1 hour ago')).toBe('2026-03-15T09:30:00.000Z');
    expect(start('3 days ago')).toBe('2026-03-12T10:30:00.000Z');
    expect(start('2 weeks ago')).toBe('2026-03-01T10:30:00.000Z');
    expect(start('1 month ago')).toBe('2026-02-15T10:30:00.000Z');
    expect(start('2 years ago')).toBe('2024-03-15T10:30:00.000Z');
  });

  it('keeps a month ago within the shorter month', () => {
    expect(start('1 month ago', Date.parse('2024-03-31T08:00:00Z'))).toBe(
      '2024-02-29T08:00:00.000Z',
    );
    expect(start('1 year ago', Date.parse('2024-02-29T08:00:00Z'))).toBe(
      '2023-02-28T08:00:00.000Z',
    );
  });

  it('makes an end written as a day include that day, and an instant exclusive', () => {
    expect(end('2024-01-31')).toBe('2024-02-01T00:00:00.000Z');
    expect(end('yesterday')).toBe('2026-03-15T00:00:00.000Z');
    expect(end('2024-01-31 06:00:00')).toBe('2024-01-31T06:00:00.000Z');
    expect(end('1706680800000')).toBe('2024-01-31T06:00:00.000Z');
    expect(end('1 day ago')).toBe('2026-03-14T10:30:00.000Z');
  });

  it('tells which bounds name a whole day', () => {
    expect(parseTimeBound('2024-01-01', NOW_MS)?.isDay).toBe(true);
    expect(parseTimeBound('today', NOW_MS)?.isDay).toBe(true);
    expect(parseTimeBound('2024-01-01 00:00', NOW_MS)?.isDay).toBe(false);
    expect(parseTimeBound('now', NOW_MS)?.isDay).toBe(false);
  });

  it('rejects what it cannot read, naming the model and the accepted forms', () => {
    const error = errorOf(() => resolveStartMs('soon', NOW_MS, 'shop.orders'));

    expect(error.code).toBe('model_header_invalid');
    expect(error.message).toBe(
      "Model 'shop.orders' has start 'soon', which is not a date, a timestamp, epoch " +
        "milliseconds or a relative time; write it as '2024-01-01', '2024-01-01 12:00:00', " +
        "1704067200000 or '3 days ago'",
    );
    expect(parseTimeBound('2024-02-30', NOW_MS)).toBeUndefined();
    expect(parseTimeBound('2023-02-29 10:00', NOW_MS)).toBeUndefined();
    expect(parseTimeBound('3 fortnights ago', NOW_MS)).toBeUndefined();
    expect(errorOf(() => resolveEndMs('2024-13-01', NOW_MS, 'a.b')).message).toMatch(
      /^Model 'a\.b' has end '2024-13-01'/,
    );
  });

  it('rejects a start after the end, naming the model', () => {
    const model = { name: 'shop.orders', start: '2024-02-01', end: '2024-01-01' };
    const error = errorOf(() => resolveModelBounds(model, NOW_MS));

    expect(error.code).toBe('model_header_invalid');
    expect(error.message).toBe(
      "Model 'shop.orders' has start '2024-02-01', which is not before its end '2024-01-01'; " +
        'give a start before the end, or remove end',
    );
  });

  it('accepts a start and an end on the same day, which covers that day', () => {
    const model = { name: 'a.b', start: '2024-01-01', end: '2024-01-01' };

    expect(resolveModelBounds(model, NOW_MS)).toEqual({
      startMs: Date.parse('2024-01-01T00:00:00Z'),
      endMs: Date.parse('2024-01-02T00:00:00Z'),
    });
    expect(resolveModelBounds({ name: 'a.b', start: undefined, end: undefined }, NOW_MS)).toEqual({
      startMs: undefined,
      endMs: undefined,
    });
  });
});
