/**
 * Bulk loading through DuckDB's appender. Each value is appended with the narrowest call its
 * JavaScript type allows (strings as VARCHAR, whole numbers as INTEGER or BIGINT, Dates as
 * TIMESTAMP); DuckDB casts it to the column's type, so '2024-01-31' fills a DATE column and
 * '12.50' a DECIMAL one. Columns the caller does not name get their default.
 */

import {
  type DuckDBAppender,
  type DuckDBConnection,
  DuckDBTimestampTZValue,
} from '@duckdb/node-api';
import { SluiceError } from '../../core/errors.js';
import type { ColumnInfo, TableName } from '../engine-adapter.js';
import { throwIfCancelled } from './duckdb-cancel.js';
import { toSluiceError } from './duckdb-errors.js';
import { timestampOf, zonedTimestampMicros } from './duckdb-values.js';

/** Where one table column's values come from: a position in each row, or -1 for its default. */
type ColumnSlot = {
  readonly source: number;
  readonly column: ColumnInfo;
  readonly isTimestampTz: boolean;
};

// A long synchronous loop would keep the abort signal from ever firing, so the loop lets the
// event loop run every so many rows.
const ROWS_BETWEEN_PAUSES = 16_384;
const INT32_MIN = -2_147_483_648;
const INT32_MAX = 2_147_483_647;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Appends rows whose values follow `columns` to a table whose columns are `tableColumns`. */
export async function appendRows(
  connection: DuckDBConnection,
  table: TableName,
  tableColumns: readonly ColumnInfo[],
  columns: readonly string[],
  rows: Iterable<readonly unknown[]> | AsyncIterable<readonly unknown[]>,
  signal: AbortSignal | undefined,
): Promise<number> {
  const slots = planSlots(table, tableColumns, columns);
  const appender = await connection
    .createAppender(table.name, table.schema)
    .catch((error: unknown) => Promise.reject(toSluiceError(error)));

  let rowCount = 0;
  const push = (row: readonly unknown[]) => {
    rowCount += 1;
    appendRow(appender, row, slots, { table, columns, rowNumber: rowCount });
    return rowCount % ROWS_BETWEEN_PAUSES === 0;
  };
  try {
    if (Symbol.asyncIterator in rows) {
      for await (const row of rows) if (push(row)) await pause(signal);
    } else {
      for (const row of rows) if (push(row)) await pause(signal);
    }
    throwIfCancelled(signal);
    appender.closeSync();
    return rowCount;
  } catch (error) {
    abandon(appender);
    throw toSluiceError(error);
  }
}

function planSlots(
  table: TableName,
  tableColumns: readonly ColumnInfo[],
  columns: readonly string[],
): ColumnSlot[] {
  const positions = new Map(columns.map((name, index) => [name.toLowerCase(), index]));
  if (positions.size !== columns.length) {
    throw loadError(table, 'names a column twice; name each column once');
  }
  const slots = tableColumns.map((column) => ({
    source: positions.get(column.name.toLowerCase()) ?? -1,
    column,
    isTimestampTz: column.type === 'TIMESTAMP WITH TIME ZONE',
  }));
  const known = new Set(tableColumns.map((column) => column.name.toLowerCase()));
  const unknown = columns.find((name) => !known.has(name.toLowerCase()));
  if (unknown !== undefined) {
    throw loadError(table, `names column '${unknown}', which the table does not have`);
  }
  return slots;
}

type RowPlace = {
  readonly table: TableName;
  readonly columns: readonly string[];
  readonly rowNumber: number;
};

function appendRow(
  appender: DuckDBAppender,
  row: readonly unknown[],
  slots: readonly ColumnSlot[],
  place: RowPlace,
): void {
  if (row.length !== place.columns.length) {
    const problem = `row ${place.rowNumber} has ${row.length} values for ${place.columns.length} columns`;
    throw loadError(place.table, `failed: ${problem}`);
  }
  let current: ColumnSlot | undefined;
  try {
    for (const slot of slots) {
      current = slot;
      if (slot.source < 0) appender.appendDefault();
      else appendValue(appender, row[slot.source], slot);
    }
    appender.endRow();
  } catch (error) {
    throw valueError(error, place, current);
  }
}

function appendValue(appender: DuckDBAppender, value: unknown, slot: ColumnSlot): void {
  if (value === null || value === undefined) appender.appendNull();
  else if (typeof value === 'string') appendString(appender, value, slot);
  else if (typeof value === 'number') appendNumber(appender, value);
  else if (typeof value === 'boolean') appender.appendBoolean(value);
  else if (typeof value === 'bigint') appendBigint(appender, value);
  else if (value instanceof Date && !Number.isNaN(value.getTime()))
    appendDate(appender, value, slot);
  else if (value instanceof Uint8Array) appender.appendBlob(value);
  else {
    throw new TypeError(
      'the value is not a number, bigint, string, boolean, null, valid Date or Uint8Array',
    );
  }
}

function appendString(appender: DuckDBAppender, value: string, slot: ColumnSlot): void {
  // The appender's own cast to TIMESTAMPTZ drops the text's UTC offset, so zoned text is read here.
  const zonedMicros = slot.isTimestampTz ? zonedTimestampMicros(value) : undefined;
  if (zonedMicros === undefined) appender.appendVarchar(value);
  else appender.appendTimestampTZ(new DuckDBTimestampTZValue(zonedMicros));
}

function appendNumber(appender: DuckDBAppender, value: number): void {
  if (!Number.isInteger(value)) appender.appendDouble(value);
  else if (INT32_MIN <= value && value <= INT32_MAX) appender.appendInteger(value);
  else if (Number.isSafeInteger(value)) appender.appendBigInt(BigInt(value));
  else appender.appendDouble(value);
}

function appendBigint(appender: DuckDBAppender, value: bigint): void {
  if (INT64_MIN <= value && value <= INT64_MAX) appender.appendBigInt(value);
  else appender.appendHugeInt(value);
}

function appendDate(appender: DuckDBAppender, value: Date, slot: ColumnSlot): void {
  const timestamp = timestampOf(value);
  if (slot.isTimestampTz) appender.appendTimestampTZ(new DuckDBTimestampTZValue(timestamp.micros));
  else appender.appendTimestamp(timestamp);
}

function valueError(error: unknown, place: RowPlace, slot: ColumnSlot | undefined): SluiceError {
  if (error instanceof SluiceError) return error;
  const reason = error instanceof Error ? error.message : String(error);
  // Constraint checks run when the appender flushes a batch, not on the row being appended.
  if (slot === undefined || reason.startsWith('Constraint Error')) return toSluiceError(error);
  const where = `row ${place.rowNumber}, column '${slot.column.name}' (${slot.column.type})`;
  return loadError(place.table, `failed at ${where}: ${reason}`);
}

function loadError(table: TableName, problem: string): SluiceError {
  return new SluiceError(
    'engine_error',
    `Loading rows into '${table.schema}.${table.name}' ${problem}`,
  );
}

async function pause(signal: AbortSignal | undefined): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
  throwIfCancelled(signal);
}

function abandon(appender: DuckDBAppender): void {
  try {
    appender.clear();
    appender.closeSync();
  } catch {
    // The load already failed; that failure is the one worth reporting.
  }
}
