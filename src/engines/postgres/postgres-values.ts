import pg from 'pg';
import { SluiceError } from '../../core/errors.js';

/**
 * How PostgreSQL values become JavaScript values, and back. Results: int2/int4/float as number,
 * int8 as number when it is a safe integer and as its decimal string otherwise, NUMERIC as number
 * (large or very precise values lose digits), DATE as 'YYYY-MM-DD', TIMESTAMP as a Date read as
 * UTC, TIMESTAMPTZ as a Date, the rest as node-postgres gives them. The parsers assume the
 * server's default DateStyle (ISO). They are installed per pool through the `types` option, so
 * node-postgres's process-wide defaults stay untouched.
 */

const OID = {
  int8: 20,
  numeric: 1700,
  date: 1082,
  timestamp: 1114,
  textArray: 1009,
  int8Array: 1016,
  numericArray: 1231,
  dateArray: 1182,
  timestampArray: 1115,
} as const;

const TIMESTAMP_TEXT = /^(\d{4,})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(?:\.(\d+))?( BC)?$/;

/** An int8 as a number when it is exactly representable, otherwise its decimal text. */
export function parseInt8(text: string): number | string {
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : text;
}

/** A `timestamp without time zone` read as UTC; 'infinity' and other odd values stay text. */
export function parseTimestampAsUtc(text: string): Date | string {
  const match = TIMESTAMP_TEXT.exec(text);
  if (match === null) return text;

  const [, year, month, day, hours, minutes, seconds, fraction, era] = match;
  const date = new Date(0);
  const fullYear = era === undefined ? Number(year) : 1 - Number(year);
  date.setUTCFullYear(fullYear, Number(month) - 1, Number(day));
  const ms = Number((fraction ?? '').padEnd(3, '0').slice(0, 3));
  date.setUTCHours(Number(hours), Number(minutes), Number(seconds), ms);
  return date;
}

type TextParser = (text: string) => unknown;

const identity: TextParser = (text) => text;

/** node-postgres's own parser lookup, typed loosely: its typings only accept built-in OIDs. */
const builtInParser = pg.types.getTypeParser as (oid: number, format?: string) => unknown;

function arrayOf(parse: TextParser): TextParser {
  const parseTextArray = builtInParser(OID.textArray, 'text') as TextParser;
  const mapDeep = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(mapDeep);
    return value === null ? null : parse(value as string);
  };
  return (text) => mapDeep(parseTextArray(text));
}

const TEXT_PARSERS: ReadonlyMap<number, TextParser> = new Map([
  [OID.int8, parseInt8],
  [OID.numeric, Number],
  [OID.date, identity],
  [OID.timestamp, parseTimestampAsUtc],
  [OID.int8Array, arrayOf(parseInt8)],
  [OID.numericArray, arrayOf(Number)],
  [OID.dateArray, arrayOf(identity)],
  [OID.timestampArray, arrayOf(parseTimestampAsUtc)],
]);

function getTypeParser(oid: number, format?: string): unknown {
  const own = format === 'binary' ? undefined : TEXT_PARSERS.get(oid);
  return own ?? builtInParser(oid, format);
}

/** The per-pool type parsers (the `types` option of a pg.Pool). */
export const POSTGRES_TYPE_PARSERS = {
  getTypeParser,
} as unknown as pg.CustomTypesConfig;

/**
 * A bound parameter in the form sent to the server. Dates go as ISO text in UTC, so that a
 * TIMESTAMP column stores the UTC clock time the result mapping reads back; bigints as text.
 */
export function toPostgresParam(value: unknown, position: number): unknown {
  if (value instanceof Date) return isoText(value, `Parameter $${position}`);
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return value.map((item) => toPostgresParam(item, position));
  return value;
}

/** The parameters of a statement, ready for node-postgres. */
export function toPostgresParams(params: readonly unknown[] | undefined): unknown[] | undefined {
  return params?.map((value, index) => toPostgresParam(value, index + 1));
}

/** ISO-8601 text of a Date in UTC; an invalid Date is refused with `what` named. */
export function isoText(value: Date, what: string): string {
  if (Number.isNaN(value.getTime())) {
    throw new SluiceError('engine_error', `${what} is an invalid Date; pass a valid Date or null`);
  }
  return value.toISOString();
}
