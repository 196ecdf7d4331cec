/**
 * Checks a model's cron, cron_tz, interval unit, start and end while its file loads, with the same
 * core functions that later compute its intervals, so that a bad cron or a start after the end
 * fails `sluice dag` with the file, line and model name instead of failing a run.
 */

import { SluiceError } from '../core/errors.js';
import { deriveIntervalUnit, parseCronSchedule } from '../core/intervals/cron-schedule.js';
import {
  checkStartBeforeEnd,
  resolveEndMs,
  resolveStartMs,
} from '../core/intervals/time-bounds.js';
import { type ReadContext, report, type ValueSource } from './header-values.js';
import type { ModelProperties } from './model-properties.js';

/** Where to report a problem whose property the header does not set, and the instant to check at. */
export type IntervalCheckInput = {
  /** The MODEL header's offset, for settings that come from model_defaults. */
  readonly headerStart: number;
  /** Relative starts and ends (`3 days ago`) are resolved against this instant. */
  readonly nowMs: number;
};

/** Reports each interval problem of a named model at the property that causes it. */
export function checkModelIntervals(
  context: ReadContext,
  properties: ModelProperties,
  seen: ReadonlyMap<string, ValueSource>,
  input: IntervalCheckInput,
): void {
  const offsetOf = (...names: string[]): number => {
    const source = names.map((name) => seen.get(name)).find(Boolean);
    return source?.nodes[0]?.start ?? source?.key.start ?? input.headerStart;
  };

  attempt(context, offsetOf('cron', 'cron_tz'), () => {
    const schedule = parseCronSchedule(properties.cron, properties.cronTimeZone, properties.name);
    if (properties.intervalUnit === undefined) deriveIntervalUnit(schedule, properties.name);
  });

  const { name, start, end } = properties;
  const startMs = attempt(context, offsetOf('start'), () =>
    start === undefined ? undefined : resolveStartMs(start, input.nowMs, name),
  );
  const endMs = attempt(context, offsetOf('end'), () =>
    end === undefined ? undefined : resolveEndMs(end, input.nowMs, name),
  );
  if (start === undefined || end === undefined || startMs === undefined || endMs === undefined) {
    return;
  }
  attempt(context, offsetOf('start'), () =>
    checkStartBeforeEnd({ name, start, end }, startMs, endMs),
  );
}

/** Runs a check, reporting its SluiceError at `offset`; undefined when it failed. */
function attempt<T>(context: ReadContext, offset: number, check: () => T): T | undefined {
  try {
    return check();
  } catch (error) {
    if (!(error instanceof SluiceError)) throw error;
    report(context, error.code, error.message, offset);
    return undefined;
  }
}
