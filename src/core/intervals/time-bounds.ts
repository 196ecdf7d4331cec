/**
 * A model's `start` and `end` as written in its header, resolved to UTC epoch milliseconds against
 * a given now. Accepted forms: a date (`2024-01-01`), a timestamp (`2024-01-01 12:00:00`, ISO 8601
 * with an optional offset), epoch milliseconds (`1704067200000`), and the relative forms
 * `N minutes|hours|days|weeks|months|years ago` (singular too), `yesterday`, `today` and `now`.
 *
 * As an end, a date (and `today`, `yesterday`) includes its whole day, as in SQLMesh; a timestamp,
 * epoch milliseconds, `now` and `N ... ago` are the exclusive end instant.
 */

import { SluiceError } from '../errors.js';
import { parseInstant } from '../time.js';
import { addUnits, floorToUnit, monthStartMs } from './interval-unit.js';

const DAY_MS = 86_400_000;
const DATE_PART = /^(\d{4})-(\d{2})-(\d{2})(?:$|[ T])/;
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const EPOCH_MS = /^\d+$/;
const RELATIVE = /^(\d+)\s+(minute|hour|day|week|month|year)s?\s+ago$/;

const FIXED_AGO_MS: Readonly<Record<string, number>> = {
  minute: 60_000,
  hour: 3_600_000,
  day: DAY_MS,
  week: 7 * DAY_MS,
};

/** A resolved bound: its instant, and whether it was written as a whole day. */
export type TimeBound = { readonly ms: number; readonly isDay: boolean };

/** Resolves a start or end as written; undefined when it is none of the accepted forms. */
export function parseTimeBound(text: string, nowMs: number): TimeBound | undefined {
  const trimmed = text.trim();
  const written = trimmed.toLowerCase();
  if (written === 'now') return { ms: nowMs, isDay: false };
  if (written === 'today') return { ms: floorToUnit(nowMs, 'day'), isDay: true };
  if (written === 'yesterday') return { ms: floorToUnit(nowMs, 'day') - DAY_MS, isDay: true };
  if (EPOCH_MS.test(written)) return { ms: Number(written), isDay: false };

  const relative = RELATIVE.exec(written);
  if (relative !== null) {
    return { ms: agoMs(nowMs, Number(relative[1]), relative[2] ?? ''), isDay: false };
  }

  if (!hasRealDate(trimmed)) return undefined;
  try {
    return { ms: parseInstant(trimmed, 'time').getTime(), isDay: DATE_ONLY.test(trimmed) };
  } catch {
    return undefined;
  }
}

/** The first instant of a model's intervals; throws a SluiceError naming the model. */
export function resolveStartMs(text: string, nowMs: number, modelName: string): number {
  return resolveBound(text, nowMs, modelName, 'start').ms;
}

/** The exclusive end instant of a model's intervals; throws a SluiceError naming the model. */
export function resolveEndMs(text: string, nowMs: number, modelName: string): number {
  const bound = resolveBound(text, nowMs, modelName, 'end');
  return bound.isDay ? bound.ms + DAY_MS : bound.ms;
}

/**
 * A model's start and exclusive end at `nowMs`, as written (not rounded to its unit); throws a
 * SluiceError naming the model when one cannot be read or the start is not before the end.
 */
export function resolveModelBounds(
  model: {
    readonly name: string;
    readonly start: string | undefined;
    readonly end: string | undefined;
  },
  nowMs: number,
): { readonly startMs: number | undefined; readonly endMs: number | undefined } {
  const startMs =
    model.start === undefined ? undefined : resolveStartMs(model.start, nowMs, model.name);
  const endMs = model.end === undefined ? undefined : resolveEndMs(model.end, nowMs, model.name);
  if (model.start !== undefined && model.end !== undefined) {
    checkStartBeforeEnd(
      { name: model.name, start: model.start, end: model.end },
      startMs ?? 0,
      endMs ?? 0,
    );
  }
  return { startMs, endMs };
}

/** Throws a SluiceError naming the model when its start is not before its (exclusive) end. */
export function checkStartBeforeEnd(
  model: { readonly name: string; readonly start: string; readonly end: string },
  startMs: number,
  endMs: number,
): void {
  if (startMs < endMs) return;
  throw new SluiceError(
    'model_header_invalid',
    `Model '${model.name}' has start '${model.start}', which is not before its end ` +
      `'${model.end}'; give a start before the end, or remove end`,
  );
}

function resolveBound(
  text: string,
  nowMs: number,
  modelName: string,
  property: 'start' | 'end',
): TimeBound {
  const bound = parseTimeBound(text, nowMs);
  if (bound !== undefined && Number.isFinite(bound.ms)) return bound;
  throw new SluiceError(
    'model_header_invalid',
    `Model '${modelName}' has ${property} '${text}', which is not a date, a timestamp, epoch ` +
      "milliseconds or a relative time; write it as '2024-01-01', '2024-01-01 12:00:00', " +
      "1704067200000 or '3 days ago'",
  );
}

/** `count` units before `nowMs`; months and years by the calendar, the day clamped to the month. */
function agoMs(nowMs: number, count: number, unit: string): number {
  const fixedMs = FIXED_AGO_MS[unit];
  if (fixedMs !== undefined) return nowMs - count * fixedMs;

  const now = new Date(nowMs);
  const monthStart = floorToUnit(nowMs, 'month');
  const targetMonthStart = addUnits(monthStart, 'month', unit === 'year' ? -12 * count : -count);
  const target = new Date(targetMonthStart);
  const daysInMonth =
    (monthStartMs(target.getUTCFullYear(), target.getUTCMonth() + 1) - targetMonthStart) / DAY_MS;
  const day = Math.min(now.getUTCDate(), daysInMonth);
  return targetMonthStart + (day - 1) * DAY_MS + (nowMs - floorToUnit(nowMs, 'day'));
}

/** Whether a written date names a real day: Date reads 2024-02-30 as March 1st. */
function hasRealDate(written: string): boolean {
  const match = DATE_PART.exec(written);
  if (match === null) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(monthStartMs(year, month - 1) + (day - 1) * DAY_MS);
  return month >= 1 && month <= 12 && day >= 1 && date.getUTCMonth() === month - 1;
}
