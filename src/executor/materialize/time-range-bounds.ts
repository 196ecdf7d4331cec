import { SluiceError } from '../../core/errors.js';
import type { ModelKind } from '../../core/model.js';
import type { Interval } from '../../core/time.js';
import { timestampText } from './write-context.js';

type TimeRangeKind = Extract<ModelKind, { name: 'INCREMENTAL_BY_TIME_RANGE' }>;

/** The interval's bounds as SQL expressions over parameters `$1` (start) and `$2` (end). */
export type TimeRangeBounds = {
  readonly startSql: string;
  readonly endSql: string;
  readonly params: readonly string[];
};

/**
 * How an interval is compared with a time column. A DATE or TIMESTAMP column is compared with the
 * bounds cast to TIMESTAMP (both engines compare a DATE with a TIMESTAMP as the date's midnight).
 * A column with a time zone is compared with the bounds as UTC instants, so that the session's
 * time zone never shifts the interval. A column written as text in the format of
 * `time_column (col, '<format>')` is compared with the bounds formatted the same way, as strings:
 * this is right only for formats whose text sorts in time order, such as '%Y-%m-%d' or '%Y%m%d%H'.
 */
export function timeRangeBounds(
  modelName: string,
  kind: TimeRangeKind,
  interval: Interval,
  columnType: string | undefined,
): TimeRangeBounds {
  if (kind.timeColumnFormat === undefined && isZoned(columnType)) {
    return {
      startSql: 'CAST($1 AS TIMESTAMPTZ)',
      endSql: 'CAST($2 AS TIMESTAMPTZ)',
      params: [`${timestampText(interval.start)}+00:00`, `${timestampText(interval.end)}+00:00`],
    };
  }
  if (kind.timeColumnFormat === undefined) {
    return {
      startSql: 'CAST($1 AS TIMESTAMP)',
      endSql: 'CAST($2 AS TIMESTAMP)',
      params: [timestampText(interval.start), timestampText(interval.end)],
    };
  }
  const format = kind.timeColumnFormat;
  return {
    startSql: 'CAST($1 AS VARCHAR)',
    endSql: 'CAST($2 AS VARCHAR)',
    params: [
      formatInstant(modelName, format, interval.start),
      formatInstant(modelName, format, interval.end),
    ],
  };
}

const year = (instant: Date) => String(instant.getUTCFullYear()).padStart(4, '0');
const month = (instant: Date) => pad(instant.getUTCMonth() + 1);
const day = (instant: Date) => pad(instant.getUTCDate());
const hour = (instant: Date) => pad(instant.getUTCHours());
const minute = (instant: Date) => pad(instant.getUTCMinutes());
const second = (instant: Date) => pad(instant.getUTCSeconds());

const DIRECTIVES: Readonly<Record<string, (instant: Date) => string>> = {
  Y: year,
  m: month,
  d: day,
  H: hour,
  M: minute,
  S: second,
  F: (instant) => `${year(instant)}-${month(instant)}-${day(instant)}`,
  T: (instant) => `${hour(instant)}:${minute(instant)}:${second(instant)}`,
  '%': () => '%',
};

/** Formats an instant in UTC with a strftime format of the directives above. */
export function formatInstant(modelName: string, format: string, instant: Date): string {
  return format.replace(/%(.)?/gs, (directive, letter: string | undefined) => {
    const render = letter === undefined ? undefined : DIRECTIVES[letter];
    if (render !== undefined) return render(instant);
    throw new SluiceError(
      'model_not_supported',
      `Model '${modelName}' formats its time column as '${format}', whose ${directive} Sluice ` +
        'does not support yet; use %Y, %m, %d, %H, %M, %S, %F, %T and %%',
    );
  });
}

/** TIMESTAMPTZ (PostgreSQL's name) or TIMESTAMP WITH TIME ZONE (DuckDB's). */
function isZoned(columnType: string | undefined): boolean {
  return columnType !== undefined && /^TIMESTAMPTZ|WITH TIME ZONE/i.test(columnType);
}

function pad(value: number): string {
  return String(value).padStart(2, '0');
}
