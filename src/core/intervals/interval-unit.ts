/**
 * Arithmetic on interval units, all in UTC epoch milliseconds. Minute, hour and day units have a
 * fixed length; month and year follow the calendar (the 1st of the month, January 1st), computed
 * with Date.UTC, never by stepping one interval at a time.
 */

import { INTERVAL_UNITS, type IntervalUnit } from '../model.js';

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

/** The length of the units that have one, in milliseconds. */
const FIXED_LENGTH_MS: Readonly<Record<IntervalUnit, number | undefined>> = {
  five_minute: 5 * MINUTE_MS,
  quarter_hour: 15 * MINUTE_MS,
  half_hour: 30 * MINUTE_MS,
  hour: HOUR_MS,
  day: DAY_MS,
  month: undefined,
  year: undefined,
};

/** Units from the finest to the coarsest: the order INTERVAL_UNITS lists them in. */
export const UNITS_FINEST_FIRST: readonly IntervalUnit[] = INTERVAL_UNITS;

/**
 * The shortest length of a unit in milliseconds, for comparing units with gaps between cron ticks:
 * a month counts as 28 days and a year as 365.
 */
export function shortestUnitLengthMs(unit: IntervalUnit): number {
  if (unit === 'month') return 28 * DAY_MS;
  if (unit === 'year') return 365 * DAY_MS;
  return FIXED_LENGTH_MS[unit] ?? DAY_MS;
}

/** The start of the unit that contains `ms`. */
export function floorToUnit(ms: number, unit: IntervalUnit): number {
  const lengthMs = FIXED_LENGTH_MS[unit];
  if (lengthMs !== undefined) return ms - modulo(ms, lengthMs);

  const date = new Date(ms);
  const month = unit === 'month' ? date.getUTCMonth() : 0;
  return monthStartMs(date.getUTCFullYear(), month);
}

/** `ms` itself when it is a unit boundary, otherwise the end of the unit that contains it. */
export function ceilToUnit(ms: number, unit: IntervalUnit): number {
  const floorMs = floorToUnit(ms, unit);
  return floorMs === ms ? ms : addUnits(floorMs, unit, 1);
}

/** Whether `ms` is a boundary of the unit. */
export function isUnitBoundary(ms: number, unit: IntervalUnit): boolean {
  return floorToUnit(ms, unit) === ms;
}

/**
 * The instant `count` units after `ms` (before it when negative). For months and years `ms` must be
 * a unit boundary; the result is then one too.
 */
export function addUnits(ms: number, unit: IntervalUnit, count: number): number {
  const lengthMs = FIXED_LENGTH_MS[unit];
  if (lengthMs !== undefined) return ms + count * lengthMs;

  const date = new Date(ms);
  const months = unit === 'month' ? count : count * 12;
  return monthStartMs(date.getUTCFullYear(), date.getUTCMonth() + months);
}

/** How many whole units lie within `[startMs, endMs)`: the units from ceil(start) to floor(end). */
export function unitsBetween(startMs: number, endMs: number, unit: IntervalUnit): number {
  const firstMs = ceilToUnit(startMs, unit);
  const lastMs = floorToUnit(endMs, unit);
  if (lastMs <= firstMs) return 0;

  const lengthMs = FIXED_LENGTH_MS[unit];
  if (lengthMs !== undefined) return (lastMs - firstMs) / lengthMs;
  const first = new Date(firstMs);
  const last = new Date(lastMs);
  const months =
    (last.getUTCFullYear() - first.getUTCFullYear()) * 12 +
    (last.getUTCMonth() - first.getUTCMonth());
  return unit === 'month' ? months : months / 12;
}

/** Midnight UTC of the 1st of a month; the month may overflow into other years. */
export function monthStartMs(year: number, month: number): number {
  const normalisedYear = year + Math.floor(month / 12);
  const normalisedMonth = modulo(month, 12);
  if (normalisedYear >= 0 && normalisedYear < 100) {
    // Date.UTC reads years 0-99 as 1900-1999.
    return new Date(Date.UTC(2000, normalisedMonth, 1)).setUTCFullYear(normalisedYear);
  }
  return Date.UTC(normalisedYear, normalisedMonth, 1);
}

function modulo(value: number, divisor: number): number {
  return ((value % divisor) + divisor) % divisor;
}

/** A range widened to whole units: its start floored, its end rounded up. */
export function wholeUnits(
  range: readonly [startMs: number, endMs: number],
  unit: IntervalUnit,
): [number, number] {
  return [floorToUnit(range[0], unit), ceilToUnit(range[1], unit)];
}
