/**
 * A model's intervals: which ranges of time it is expected to cover at a given now, which of them
 * are missing given what was processed, and how the missing ones split into batches. Everything is
 * range arithmetic on `[startMs, endMs)` pairs; nothing enumerates intervals one by one.
 */

import type { IntervalUnit, ModelDefinition, ModelKind } from '../model.js';
import { type CronSchedule, deriveIntervalUnit, parseCronSchedule } from './cron-schedule.js';
import { addUnits, ceilToUnit, floorToUnit } from './interval-unit.js';
import { mergeRanges, subtractRanges, type TimeRange } from './range-set.js';
import { resolveModelBounds } from './time-bounds.js';

/** The validated interval settings of one model, resolved at one instant. */
export type IntervalSettings = {
  readonly modelName: string;
  readonly unit: IntervalUnit;
  readonly schedule: CronSchedule;
  /** The start of the first interval, on a unit boundary. */
  readonly startMs: number;
  /** The exclusive end of the last interval, rounded up to a unit boundary; undefined: no end. */
  readonly endMs: number | undefined;
  /** How many units one batch covers at most; undefined: each missing range is one batch. */
  readonly batchSize: number | undefined;
  /** How many units before each missing range are processed again. */
  readonly lookback: number;
  /** Whether the incomplete interval that contains now may be evaluated. */
  readonly allowsPartials: boolean;
};

/** What the interval settings are read from. */
export type IntervalModel = Pick<
  ModelDefinition,
  'name' | 'kind' | 'cron' | 'cronTimeZone' | 'intervalUnit' | 'start' | 'end' | 'allowsPartials'
>;

/**
 * Validates and resolves a model's interval settings at `nowMs`: relative starts and ends are read
 * against it. A model without `start` covers only its latest complete interval: its start is the
 * end of its expected range at `nowMs` minus one unit. Throws a SluiceError naming the model for a
 * bad cron or zone, a cron finer than five minutes without interval_unit, an unreadable start or
 * end, and a start that is not before the end.
 */
export function intervalSettingsOf(model: IntervalModel, nowMs: number): IntervalSettings {
  const schedule = parseCronSchedule(model.cron, model.cronTimeZone, model.name);
  const unit = model.intervalUnit ?? deriveIntervalUnit(schedule, model.name);
  const { startMs, endMs } = resolveModelBounds(model, nowMs);

  const settings = {
    modelName: model.name,
    unit,
    schedule,
    endMs: endMs === undefined ? undefined : ceilToUnit(endMs, unit),
    ...batchingOf(model.kind),
    allowsPartials: model.allowsPartials,
  };
  if (startMs !== undefined) return { ...settings, startMs: floorToUnit(startMs, unit) };
  const lastEndMs = completeEndMs(settings, nowMs) ?? floorToUnit(nowMs, unit);
  return { ...settings, startMs: addUnits(lastEndMs, unit, -1) };
}

/**
 * The range a model is expected to cover at `nowMs`: from its start to the end of the last unit
 * that ended at or before the cron's latest tick, capped by its end. With allow_partials it reaches
 * to the end of the unit that contains `nowMs`. Undefined when it is empty.
 */
export function expectedRange(settings: IntervalSettings, nowMs: number): TimeRange | undefined {
  const endMs = settings.allowsPartials
    ? Math.min(addUnits(floorToUnit(nowMs, settings.unit), settings.unit, 1), endOf(settings))
    : completeEndMs(settings, nowMs);
  return endMs !== undefined && settings.startMs < endMs ? [settings.startMs, endMs] : undefined;
}

/**
 * The expected ranges not yet processed, widened to whole units and, with lookback N, each
 * extended N units earlier (never before the expected start). Sorted and merged.
 */
export function missingRanges(
  settings: IntervalSettings,
  processed: readonly TimeRange[],
  nowMs: number,
): TimeRange[] {
  const expected = expectedRange(settings, nowMs);
  if (expected === undefined) return [];

  const { unit, lookback } = settings;
  const [expectedStartMs, expectedEndMs] = expected;
  const widened = subtractRanges([expected], processed).map(
    ([startMs, endMs]): TimeRange => [
      Math.max(expectedStartMs, addUnits(floorToUnit(startMs, unit), unit, -lookback)),
      Math.min(expectedEndMs, ceilToUnit(endMs, unit)),
    ],
  );
  return mergeRanges(widened);
}

/**
 * The part of an evaluated range that is complete at `nowMs` (the units that ended by then), which
 * is the only part that may be recorded as processed; undefined when no whole unit is complete.
 */
export function completePart(
  settings: IntervalSettings,
  range: TimeRange,
  nowMs: number,
): TimeRange | undefined {
  const [startMs, endMs] = range;
  const completeEnd = Math.min(endMs, floorToUnit(nowMs, settings.unit));
  return startMs < completeEnd ? [startMs, completeEnd] : undefined;
}

/**
 * The first `limit` batches of the missing ranges, in time order: each covers at most batch_size
 * units (a whole missing range when batch_size is unset) and never spans a gap between missing
 * ranges. Only the window asked for is built; for the next window, subtract the ranges already
 * handed out from the missing ones and ask again.
 */
export function nextBatches(
  settings: IntervalSettings,
  missing: readonly TimeRange[],
  limit: number,
): TimeRange[] {
  const batches: TimeRange[] = [];
  for (const [startMs, endMs] of mergeRanges(missing)) {
    let cursorMs = startMs;
    while (cursorMs < endMs && batches.length < limit) {
      const batchEndMs =
        settings.batchSize === undefined
          ? endMs
          : Math.min(endMs, addUnits(cursorMs, settings.unit, Math.max(1, settings.batchSize)));
      batches.push([cursorMs, batchEndMs]);
      cursorMs = batchEndMs;
    }
    if (batches.length >= limit) break;
  }
  return batches;
}

/**
 * The end of the last unit that ended at or before the cron's latest tick, capped by the model's
 * end; undefined when the cron has not ticked yet.
 */
function completeEndMs(
  settings: Omit<IntervalSettings, 'startMs'>,
  nowMs: number,
): number | undefined {
  const tickMs = settings.schedule.latestTickAtOrBefore(nowMs);
  if (tickMs === undefined) return undefined;
  return Math.min(floorToUnit(tickMs, settings.unit), endOf(settings));
}

function endOf(settings: Pick<IntervalSettings, 'endMs'>): number {
  return settings.endMs ?? Number.POSITIVE_INFINITY;
}

/** batch_size and lookback of the incremental kinds; SEED's batch_size is about rows, not here. */
function batchingOf(kind: ModelKind): Pick<IntervalSettings, 'batchSize' | 'lookback'> {
  if (kind.name === 'INCREMENTAL_BY_TIME_RANGE' || kind.name === 'INCREMENTAL_BY_UNIQUE_KEY') {
    return { batchSize: kind.batchSize, lookback: kind.lookback };
  }
  return { batchSize: undefined, lookback: 0 };
}
