import {
  addDays,
  type Interval,
  parseInstant,
  parseUserInterval,
  startOfDay,
} from '../core/time.js';

/** The interval options that `render` and `evaluate` share. */
export type IntervalOptions = {
  readonly start?: string;
  readonly end?: string;
  readonly executionTime?: string;
};

/**
 * The interval and execution time a command means. Without --start the interval is yesterday
 * (UTC); without --end it is the day of --start; without --execution-time it is now.
 */
export function parseIntervalOptions(
  options: IntervalOptions,
  now: Date = new Date(),
): Interval & { readonly executionTime: Date } {
  const yesterday = addDays(startOfDay(now), -1).toISOString().slice(0, 10);
  const startText = options.start ?? yesterday;
  const interval = parseUserInterval(startText, options.end ?? startText);
  const executionTime =
    options.executionTime === undefined
      ? now
      : parseInstant(options.executionTime, '--execution-time');
  return { ...interval, executionTime };
}
