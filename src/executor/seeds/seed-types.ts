import type { Dialect } from '../../core/model.js';

/**
 * Type inference for seed columns that the model does not declare. Each value of a column's sample
 * is classified; the column takes the narrowest type that holds every non-empty value. Both engines
 * infer the same way; only the type names differ.
 */

/** The types a seed column can be inferred as, narrowest first within each family. */
export type SeedType = 'integer' | 'double' | 'boolean' | 'date' | 'timestamp' | 'text';

const TYPE_NAMES: Readonly<Record<Dialect, Readonly<Record<SeedType, string>>>> = {
  duckdb: {
    integer: 'BIGINT',
    double: 'DOUBLE',
    boolean: 'BOOLEAN',
    date: 'DATE',
    timestamp: 'TIMESTAMP',
    text: 'VARCHAR',
  },
  postgres: {
    integer: 'BIGINT',
    double: 'DOUBLE PRECISION',
    boolean: 'BOOLEAN',
    date: 'DATE',
    timestamp: 'TIMESTAMP',
    text: 'TEXT',
  },
};

const INTEGER = /^-?\d+$/;
const DOUBLE = /^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;
const BOOLEAN = /^(true|false)$/i;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIMESTAMP = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}):(\d{2})(:(\d{2})(\.\d{1,6})?)?$/;
const BIGINT_MIN = -(2n ** 63n);
const BIGINT_MAX = 2n ** 63n - 1n;

/** The engine's name for an inferred type. */
export function seedTypeName(type: SeedType, dialect: Dialect): string {
  return TYPE_NAMES[dialect][type];
}

/**
 * Infers one column's type from its sampled values. An empty value is NULL and says nothing about
 * the type; a column with only empty values is text.
 */
export function inferSeedType(values: Iterable<string>): SeedType {
  let inferred: SeedType | undefined;
  for (const value of values) {
    if (value === '') continue;
    inferred = widen(inferred, classify(value));
    if (inferred === 'text') return 'text';
  }
  return inferred ?? 'text';
}

/**
 * The narrowest type of one value. Integers outside BIGINT's range are text, so that long
 * identifiers keep every digit; a timestamp with a time zone offset is text, since neither
 * engine's TIMESTAMP keeps the offset.
 */
export function classify(value: string): SeedType {
  if (INTEGER.test(value)) return fitsBigint(value) ? 'integer' : 'text';
  if (DOUBLE.test(value)) return 'double';
  if (BOOLEAN.test(value)) return 'boolean';
  if (DATE.test(value)) return isCalendarDate(value) ? 'date' : 'text';
  const timestamp = TIMESTAMP.exec(value);
  if (timestamp !== null && isCalendarDate(timestamp[1] ?? '') && isClockTime(timestamp)) {
    return 'timestamp';
  }
  return 'text';
}

/** The narrowest type holding values of both types. */
function widen(current: SeedType | undefined, next: SeedType): SeedType {
  if (current === undefined || current === next) return next;
  const pair = new Set([current, next]);
  if (pair.has('integer') && pair.has('double')) return 'double';
  if (pair.has('date') && pair.has('timestamp')) return 'timestamp';
  return 'text';
}

function fitsBigint(value: string): boolean {
  if (value.replace('-', '').length < 19) return true;
  const number = BigInt(value);
  return number >= BIGINT_MIN && number <= BIGINT_MAX;
}

function isCalendarDate(text: string): boolean {
  const match = DATE.exec(text);
  if (match === null) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (year < 1 || month < 1 || month > 12 || day < 1) return false;
  return day <= daysInMonth(year, month);
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function isClockTime(match: RegExpExecArray): boolean {
  const hours = Number(match[2]);
  const minutes = Number(match[3]);
  const seconds = match[5] === undefined ? 0 : Number(match[5]);
  return hours < 24 && minutes < 60 && seconds < 60;
}
