import type { TimeRange } from '../core/intervals/range-set.js';

/**
 * How the CLI writes instants and ranges: a date when the instant is a UTC midnight, else the
 * date and time to the minute (or second when it has seconds), always UTC.
 */
export function formatInstant(instantMs: number): string {
  const iso = new Date(instantMs).toISOString();
  if (iso.endsWith('T00:00:00.000Z')) return iso.slice(0, 10);
  const precise = iso.endsWith(':00.000Z') ? iso.slice(0, 16) : iso.slice(0, 19);
  return precise.replace('T', ' ');
}

/** A half-open range as `[start, end)`. */
export function formatRange([startMs, endMs]: TimeRange): string {
  return `[${formatInstant(startMs)}, ${formatInstant(endMs)})`;
}

/** A range for JSON output: ISO 8601 instants. */
export function rangeJson([startMs, endMs]: TimeRange): { start: string; end: string } {
  return { start: new Date(startMs).toISOString(), end: new Date(endMs).toISOString() };
}
