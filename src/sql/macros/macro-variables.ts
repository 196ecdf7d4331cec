/**
 * The built-in macro variables: the interval's start and end and the execution time in several
 * forms (all UTC), the model's own table, the runtime stage and the gateway.
 *
 * Intervals are half-open `[start, end)`, but the `@end_*` variables are inclusive, as in SQLMesh:
 * they describe the last microsecond of the interval, so `BETWEEN @start_ds AND @end_ds` selects
 * exactly one daily interval.
 */

import { SluiceError } from '../../core/errors.js';
import type { MacroContext } from '../macro-context.js';
import { bindingOfValue, type MacroBinding } from './macro-values.js';

const TIME_PREFIXES = ['start', 'end', 'execution'] as const;
const TIME_FORMATS = ['ds', 'ts', 'tstz', 'date', 'dt', 'epoch', 'millis'] as const;

type TimePrefix = (typeof TIME_PREFIXES)[number];
type TimeFormat = (typeof TIME_FORMATS)[number];

/** The macro variable names (lower case) the renderer knows as built-ins, for error hints. */
export const BUILT_IN_MACRO_VARIABLES: readonly string[] = [
  ...TIME_PREFIXES.flatMap((prefix) => TIME_FORMATS.map((format) => `${prefix}_${format}`)),
  'this_model',
  'runtime_stage',
  'gateway',
];

/** An instant with microsecond precision: whole milliseconds since the epoch plus 0-999 µs. */
type Instant = { readonly epochMs: number; readonly extraMicros: number };

/** The binding of a built-in variable (name in lower case), or undefined for any other name. */
export function builtInBinding(name: string, context: MacroContext): MacroBinding | undefined {
  if (name === 'this_model') return thisModelBinding(context.thisModel);
  if (name === 'runtime_stage') return bindingOfValue(context.runtimeStage);
  if (name === 'gateway') return bindingOfValue(context.gateway);

  const separator = name.indexOf('_');
  const prefix = TIME_PREFIXES.find((candidate) => candidate === name.slice(0, separator));
  const format = TIME_FORMATS.find((candidate) => candidate === name.slice(separator + 1));
  if (separator === -1 || prefix === undefined || format === undefined) return undefined;
  return timeBinding(instantOf(prefix, context), format);
}

/** The model's table, inserted as is: it is already quoted SQL. */
function thisModelBinding(thisModel: string): MacroBinding {
  return { sql: thisModel, raw: thisModel, value: thisModel, items: undefined };
}

/** The end is exclusive; `@end_*` shows the instant one microsecond before it. */
function instantOf(prefix: TimePrefix, context: MacroContext): Instant {
  const date =
    prefix === 'start' ? context.start : prefix === 'end' ? context.end : context.executionTime;
  const epochMs = date.getTime();
  if (Number.isNaN(epochMs)) {
    throw new SluiceError('internal', `The macro context's ${prefix} time is not a valid date`);
  }
  return prefix === 'end'
    ? { epochMs: epochMs - 1, extraMicros: 999 }
    : { epochMs, extraMicros: 0 };
}

function timeBinding(instant: Instant, format: TimeFormat): MacroBinding {
  const date = new Date(instant.epochMs);
  const day = formatDay(date);
  const timestamp = `${day} ${formatTimeOfDay(date, instant.extraMicros)}`;
  switch (format) {
    case 'ds':
      return bindingOfValue(day);
    case 'ts':
      return bindingOfValue(timestamp);
    case 'tstz':
      return bindingOfValue(`${timestamp}+00:00`);
    case 'date':
      return { ...bindingOfValue(day), sql: `CAST('${day}' AS DATE)` };
    case 'dt':
      return { ...bindingOfValue(timestamp), sql: `CAST('${timestamp}' AS TIMESTAMP)` };
    case 'epoch':
      return bindingOfValue(Math.floor(instant.epochMs / 1000));
    case 'millis':
      return bindingOfValue(instant.epochMs);
  }
}

/** `YYYY-MM-DD` in UTC. */
function formatDay(date: Date): string {
  const month = pad(date.getUTCMonth() + 1, 2);
  return `${pad(date.getUTCFullYear(), 4)}-${month}-${pad(date.getUTCDate(), 2)}`;
}

/** `HH:MM:SS` in UTC, with `.ffffff` microseconds only when they are not zero. */
function formatTimeOfDay(date: Date, extraMicros: number): string {
  const seconds = `${pad(date.getUTCHours(), 2)}:${pad(date.getUTCMinutes(), 2)}:${pad(date.getUTCSeconds(), 2)}`;
  const micros = date.getUTCMilliseconds() * 1000 + extraMicros;
  return micros === 0 ? seconds : `${seconds}.${pad(micros, 6)}`;
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}
