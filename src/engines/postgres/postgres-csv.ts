import { SluiceError } from '../../core/errors.js';
import { isoText } from './postgres-values.js';

/**
 * Rows as CSV text for `COPY ... FROM STDIN WITH (FORMAT csv)`: null as an empty unquoted field
 * (CSV's NULL), every string quoted with embedded quotes doubled (so an empty string stays empty
 * and a `\.` line is data), Dates as ISO-8601 in UTC, booleans as true/false, bytes as bytea hex,
 * other objects as JSON text.
 */

/** Roughly how many characters go into one chunk written to the COPY stream. */
const CHUNK_CHARS = 1 << 16;

/** One CSV field. */
export function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  switch (typeof value) {
    case 'string':
      return quote(value);
    case 'number':
      return String(value);
    case 'bigint':
      return value.toString();
    case 'boolean':
      return value ? 'true' : 'false';
  }
  if (value instanceof Date) return isoText(value, 'A Date in the rows');
  if (value instanceof Uint8Array) return `\\x${Buffer.from(value).toString('hex')}`;
  return quote(JSON.stringify(value));
}

/** One CSV line with its newline; refuses a row whose width differs from the column list. */
export function csvLine(row: readonly unknown[], width: number, rowNumber: number): string {
  if (row.length !== width) {
    throw new SluiceError(
      'engine_error',
      `Row ${rowNumber} has ${row.length} values but ${width} columns were given; ` +
        'give one value per column, in the order of the columns',
    );
  }
  let line = '';
  for (let index = 0; index < width; index++) {
    if (index > 0) line += ',';
    line += csvField(row[index]);
  }
  return `${line}\n`;
}

/** CSV text in chunks of about 64 KiB, pulling rows only as fast as the chunks are read. */
export function csvChunks(
  rows: Iterable<readonly unknown[]> | AsyncIterable<readonly unknown[]>,
  width: number,
): Iterable<string> | AsyncIterable<string> {
  return Symbol.asyncIterator in rows
    ? asyncChunks(rows as AsyncIterable<readonly unknown[]>, width)
    : syncChunks(rows as Iterable<readonly unknown[]>, width);
}

function* syncChunks(rows: Iterable<readonly unknown[]>, width: number): Generator<string> {
  let chunk = '';
  let rowNumber = 0;
  for (const row of rows) {
    chunk += csvLine(row, width, ++rowNumber);
    if (chunk.length >= CHUNK_CHARS) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk !== '') yield chunk;
}

async function* asyncChunks(
  rows: AsyncIterable<readonly unknown[]>,
  width: number,
): AsyncGenerator<string> {
  let chunk = '';
  let rowNumber = 0;
  for await (const row of rows) {
    chunk += csvLine(row, width, ++rowNumber);
    if (chunk.length >= CHUNK_CHARS) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk !== '') yield chunk;
}

function quote(text: string): string {
  return `"${text.includes('"') ? text.replaceAll('"', '""') : text}"`;
}
