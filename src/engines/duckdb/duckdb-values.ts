/**
 * How JavaScript values cross into DuckDB and back. Going in, each parameter is bound with the
 * type its JavaScript value implies. Coming out, values become plain JavaScript, the same as the
 * PostgreSQL adapter gives:
 *
 * - integers of every width → number; BIGINT and HUGEINT values beyond 2^53 → string of digits,
 *   so rows survive JSON output without losing digits;
 * - DECIMAL, FLOAT, DOUBLE → number (a DECIMAL wider than a double's 15–17 digits loses digits);
 * - DATE → 'YYYY-MM-DD' string; TIMESTAMP and TIMESTAMPTZ → Date (a TIMESTAMP is read as UTC;
 *   microseconds are truncated to milliseconds; ±infinity → 'infinity' / '-infinity');
 * - TIME, TIMETZ, INTERVAL, UUID → their SQL text; BLOB → Uint8Array; LIST, STRUCT → arrays and
 *   objects of converted values; VARCHAR, JSON → string; BOOLEAN → boolean; NULL → null.
 */

import {
  BIGINT,
  BLOB,
  BOOLEAN,
  DOUBLE,
  DuckDBBlobValue,
  DuckDBTimestampValue,
  type DuckDBType,
  DuckDBTypeId,
  type DuckDBValue,
  type DuckDBValueConverter,
  HUGEINT,
  INTEGER,
  type JS,
  JSDuckDBValueConverter,
  SQLNULL,
  TIMESTAMP,
  VARCHAR,
} from '@duckdb/node-api';
import { SluiceError } from '../../core/errors.js';

/** Parameters ready for `DuckDBConnection.run`: values and the type each is bound as. */
export type BoundParameters = {
  readonly values: DuckDBValue[];
  readonly types: DuckDBType[];
};

const INT32_MIN = -2_147_483_648;
const INT32_MAX = 2_147_483_647;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Binds numbers, bigints, strings, booleans, null, Date (as TIMESTAMP) and Uint8Array. */
export function bindParameters(params: readonly unknown[]): BoundParameters {
  const values: DuckDBValue[] = [];
  const types: DuckDBType[] = [];
  params.forEach((param, index) => {
    const [value, type] = bindOne(param, index);
    values.push(value);
    types.push(type);
  });
  return { values, types };
}

function bindOne(param: unknown, index: number): [DuckDBValue, DuckDBType] {
  if (param === null || param === undefined) return [null, SQLNULL];
  if (typeof param === 'boolean') return [param, BOOLEAN];
  if (typeof param === 'string') return [param, VARCHAR];
  if (typeof param === 'number') return bindNumber(param);
  if (typeof param === 'bigint') {
    return INT64_MIN <= param && param <= INT64_MAX ? [param, BIGINT] : [param, HUGEINT];
  }
  if (param instanceof Date && !Number.isNaN(param.getTime())) {
    return [timestampOf(param), TIMESTAMP];
  }
  if (param instanceof Uint8Array) return [new DuckDBBlobValue(param), BLOB];
  throw new SluiceError(
    'internal',
    `Parameter $${index + 1} is ${describeKind(param)}, which DuckDB cannot take; pass a number, ` +
      'bigint, string, boolean, null, valid Date or Uint8Array',
  );
}

function bindNumber(value: number): [DuckDBValue, DuckDBType] {
  if (!Number.isInteger(value)) return [value, DOUBLE];
  if (INT32_MIN <= value && value <= INT32_MAX) return [value, INTEGER];
  return Number.isSafeInteger(value) ? [BigInt(value), BIGINT] : [value, DOUBLE];
}

/** The TIMESTAMP (UTC, microseconds) of a Date. */
export function timestampOf(date: Date): DuckDBTimestampValue {
  return new DuckDBTimestampValue(BigInt(date.getTime()) * 1000n);
}

const ZONED_TIMESTAMP =
  /^(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d(?::\d\d)?)(?:\.(\d{1,9}))?\s*(Z|[+-]\d\d(?::?\d\d)?)$/i;

/**
 * The UTC microseconds of timestamp text that carries an offset (`2024-07-01 08:00:00+02`,
 * `2024-07-01T06:00:00.5Z`); undefined for text without one or that is not such a timestamp.
 */
export function zonedTimestampMicros(text: string): bigint | undefined {
  const match = ZONED_TIMESTAMP.exec(text);
  if (match === null) return undefined;

  const [, day, time, fraction = '', offset = 'Z'] = match;
  const wholeMs = Date.parse(`${day}T${time}Z`);
  if (Number.isNaN(wholeMs)) return undefined;
  const micros = BigInt(fraction.padEnd(6, '0').slice(0, 6));
  return BigInt(wholeMs) * 1000n + micros - BigInt(offsetMinutes(offset)) * 60_000_000n;
}

function offsetMinutes(offset: string): number {
  if (offset.toUpperCase() === 'Z') return 0;
  const sign = offset.startsWith('-') ? -1 : 1;
  const digits = offset.slice(1).replace(':', '');
  return sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || '0'));
}

function describeKind(value: unknown): string {
  if (value instanceof Date) return 'an invalid Date';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** The engine's upper-case name of a result column's type (`DECIMAL(10,2)`, `JSON`). */
export function typeName(type: DuckDBType): string {
  return type.alias ?? type.toString();
}

/** Converts one DuckDB value to the plain JavaScript value described at the top of this file. */
export const toJsValue: DuckDBValueConverter<JS> = (value, type, converter) => {
  if (value === null) return null;
  switch (type.typeId) {
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.UBIGINT:
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UHUGEINT:
    case DuckDBTypeId.BIGNUM:
      return typeof value === 'bigint'
        ? numberWhenSafe(value)
        : JSDuckDBValueConverter(value, type, converter);
    case DuckDBTypeId.DATE:
    case DuckDBTypeId.TIME:
    case DuckDBTypeId.TIME_NS:
    case DuckDBTypeId.TIME_TZ:
    case DuckDBTypeId.INTERVAL:
    case DuckDBTypeId.UUID:
      return String(value);
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_TZ:
    case DuckDBTypeId.TIMESTAMP_S:
    case DuckDBTypeId.TIMESTAMP_MS:
    case DuckDBTypeId.TIMESTAMP_NS:
      return isInfinite(value) ? String(value) : JSDuckDBValueConverter(value, type, converter);
    default:
      return JSDuckDBValueConverter(value, type, converter);
  }
};

function numberWhenSafe(value: bigint): number | string {
  const asNumber = Number(value);
  return Number.isSafeInteger(asNumber) ? asNumber : value.toString();
}

function isInfinite(value: DuckDBValue): boolean {
  return typeof value === 'object' && value !== null && 'isFinite' in value && !value.isFinite;
}
