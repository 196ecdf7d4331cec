/**
 * A model's cron: when it runs, evaluated in its `cron_tz`. Sluice reads five-field crons (minute,
 * hour, day of month, month, day of week) and the aliases @hourly, @daily (@midnight), @weekly,
 * @monthly and @yearly (@annually); croner evaluates them.
 *
 * Daylight saving time, as croner decides it (the tests pin it): a cron whose minute and hour
 * fields have no wildcard and no step (`0 2 * * *`, `30 1,13 * * *`, the daily and coarser aliases)
 * names local times. A local time that does not exist (spring forward) fires at the first valid
 * instant after the gap, on the same day; a local time that occurs twice (fall back) fires once, at
 * its first occurrence. A cron with a wildcard or step in those fields (`*\/5 * * * *`, `@hourly`)
 * follows elapsed time instead: it fires on both occurrences of a repeated hour and skips the hour
 * that does not exist, so it still fires every five minutes or every hour of real time.
 */

import { Cron } from 'croner';
import { didYouMean, SluiceError } from '../errors.js';
import type { IntervalUnit } from '../model.js';
import { shortestUnitLengthMs, UNITS_FINEST_FIRST } from './interval-unit.js';
import { isKnownTimeZone, isUtcZone, listedTimeZones } from './time-zones.js';

/** A parsed cron in its time zone. */
export type CronSchedule = {
  /** The cron as written. */
  readonly expression: string;
  /** The IANA zone it is evaluated in; `UTC` when the model sets no `cron_tz`. */
  readonly timeZone: string;
  /** The latest tick at or before `nowMs`, or undefined when it never ticked before. */
  latestTickAtOrBefore(nowMs: number): number | undefined;
  /** The first tick strictly after `ms`, or undefined when it never ticks again. */
  nextTickAfter(ms: number): number | undefined;
};

const ALIASES = new Set([
  '@hourly',
  '@daily',
  '@midnight',
  '@weekly',
  '@monthly',
  '@yearly',
  '@annually',
]);

const CRON_FORMS =
  "five fields (minute hour day-of-month month day-of-week) such as '0 2 * * *', or one of " +
  '@hourly, @daily, @weekly, @monthly, @yearly';

/**
 * Valid crons by zone and expression. Parsing one costs tens of microseconds (croner builds a table
 * per field) and projects repeat a few crons over many models; a croner job without a callback
 * keeps no state between the calls made here, so one instance serves every model.
 */
const parsedCrons = new Map<string, Cron>();

/** How many entries a cache holds before it starts over. */
const CACHE_LIMIT = 10_000;

/** A fixed instant from which a cron must tick at least once: 2000-01-01T00:00:00Z. */
const REFERENCE_MS = Date.UTC(2000, 0, 1);

/**
 * Parses a model's cron in its time zone (`undefined` is UTC). Throws a SluiceError naming the
 * model for an unknown zone, a cron that cannot be parsed, a six- or seven-field cron, and a cron
 * that never fires.
 */
export function parseCronSchedule(
  expression: string,
  timeZone: string | undefined,
  modelName: string,
): CronSchedule {
  const zone = timeZone ?? 'UTC';
  const key = `${zone}\n${expression}`;
  const cached = parsedCrons.get(key);
  if (cached !== undefined) return scheduleOf(expression, zone, cached);

  checkTimeZone(zone, modelName);
  checkFieldCount(expression, modelName);
  const cron = createCron(expression, zone, modelName);
  if (cron.nextRun(new Date(REFERENCE_MS)) === null) {
    throw headerError(
      `Model '${modelName}' has cron '${expression}', which never fires (no date matches it); ` +
        `write ${CRON_FORMS}`,
    );
  }

  if (parsedCrons.size >= CACHE_LIMIT) parsedCrons.clear();
  parsedCrons.set(key, cron);
  return scheduleOf(expression, zone, cron);
}

/** How many consecutive ticks, from the reference instant, decide a cron's interval unit. */
const SAMPLED_TICKS = 16;

const FIVE_MINUTES_MS = 5 * 60_000;

/** The smallest gap between sampled ticks, per cron expression: it does not depend on the zone. */
const smallestGapCache = new Map<string, number>();

/**
 * The interval unit of a model that sets none: the largest unit no longer than the smallest gap
 * between consecutive ticks of its cron (a month counts as 28 days, a year as 365). The gaps are
 * measured on the wall clock, that is with the cron evaluated in UTC: measured in a zone with
 * daylight saving time, the 23-hour day of a daily cron would make its unit an hour. Throws a
 * SluiceError naming the model when the cron runs more often than every five minutes.
 */
export function deriveIntervalUnit(schedule: CronSchedule, modelName: string): IntervalUnit {
  const gapMs = smallestTickGapMs(schedule.expression);
  if (gapMs < FIVE_MINUTES_MS) {
    throw headerError(
      `Model '${modelName}' has cron '${schedule.expression}', which runs more often than every ` +
        "five minutes; Sluice's finest interval unit is five minutes: use a cron such as " +
        "'*/5 * * * *' or set interval_unit",
    );
  }
  const fitting = UNITS_FINEST_FIRST.filter((unit) => shortestUnitLengthMs(unit) <= gapMs);
  return fitting[fitting.length - 1] ?? 'five_minute';
}

function smallestTickGapMs(expression: string): number {
  const cached = smallestGapCache.get(expression);
  if (cached !== undefined) return cached;

  const cron = new Cron(expression.trim(), cronerOptions('UTC'));
  const ticks = cron.nextRuns(SAMPLED_TICKS, new Date(REFERENCE_MS)).map((tick) => tick.getTime());
  let gapMs = Number.POSITIVE_INFINITY;
  for (let index = 1; index < ticks.length; index++) {
    gapMs = Math.min(gapMs, (ticks[index] ?? 0) - (ticks[index - 1] ?? 0));
  }

  if (smallestGapCache.size >= CACHE_LIMIT) smallestGapCache.clear();
  smallestGapCache.set(expression, gapMs);
  return gapMs;
}

/**
 * The last latest-tick answer of each shared cron: a plan or run asks every model for the latest
 * tick at the same instant, and thousands of models share a few crons.
 */
const lastLatestTick = new WeakMap<
  Cron,
  { readonly nowMs: number; readonly tickMs: number | undefined }
>();

function scheduleOf(expression: string, timeZone: string, cron: Cron): CronSchedule {
  return {
    expression,
    timeZone,
    latestTickAtOrBefore: (nowMs) => {
      const last = lastLatestTick.get(cron);
      if (last?.nowMs === nowMs) return last.tickMs;
      // croner finds runs strictly before its reference, so one millisecond later includes `nowMs`.
      const tickMs = cron.previousRuns(1, new Date(nowMs + 1))[0]?.getTime();
      lastLatestTick.set(cron, { nowMs, tickMs });
      return tickMs;
    },
    nextTickAfter: (ms) => cron.nextRun(new Date(ms))?.getTime(),
  };
}

function createCron(expression: string, zone: string, modelName: string): Cron {
  try {
    return new Cron(expression.trim(), cronerOptions(zone));
  } catch (error) {
    const reason = error instanceof Error ? ` (${describeCronerError(error.message)})` : '';
    throw headerError(
      `Model '${modelName}' has cron '${expression}', which is not a valid cron${reason}; ` +
        `write ${CRON_FORMS}`,
      error,
    );
  }
}

/**
 * Options for croner: UTC as a fixed offset (no zone arithmetic), DST rules as documented above.
 */
function cronerOptions(zone: string) {
  const where = isUtcZone(zone) ? { utcOffset: 0 } : { timezone: zone };
  return { ...where, mode: '5-part', fixedTimeRule: 'no-wildcard', paused: true } as const;
}

function checkTimeZone(zone: string, modelName: string): void {
  if (isKnownTimeZone(zone)) return;
  const hint = didYouMean(zone, listedTimeZones());
  throw headerError(
    `Model '${modelName}' has cron_tz '${zone}', which is not a known IANA time zone; ` +
      `write one such as 'Europe/Berlin' or 'UTC'.${hint}`,
  );
}

function checkFieldCount(expression: string, modelName: string): void {
  const trimmed = expression.trim();
  if (trimmed.startsWith('@')) {
    if (ALIASES.has(trimmed.toLowerCase())) return;
    throw headerError(
      `Model '${modelName}' has cron '${expression}', which is not an alias Sluice knows; ` +
        `write ${CRON_FORMS}.${didYouMean(trimmed, ALIASES)}`,
    );
  }

  const fieldCount = trimmed.split(/\s+/).length;
  if (fieldCount === 6 || fieldCount === 7) {
    throw headerError(
      `Model '${modelName}' has cron '${expression}' with ${fieldCount === 6 ? 'six' : 'seven'} ` +
        'fields; Sluice reads five-field crons, without seconds or years: ' +
        "minute hour day-of-month month day-of-week, such as '0 2 * * *'",
    );
  }
}

/** croner's message without its prefix, starting in lower case to sit inside a sentence. */
function describeCronerError(message: string): string {
  const text = message.replace(/^Cron\w*:\s*/, '');
  return text.charAt(0).toLowerCase() + text.slice(1).replace(/\.$/, '');
}

function headerError(message: string, cause?: unknown): SluiceError {
  return new SluiceError('model_header_invalid', message, { cause });
}
