import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { SluiceError } from '../../core/errors.js';
import type { EncryptedRow, PayloadRowCondition, PayloadRowQuery } from '../payload-rows.js';
import { CopyBinaryParser, type CopyField } from './copy-binary-parser.js';

/**
 * The PostgreSQL read path of `readPayloadRows`. node-postgres receives a bytea as hex text, and
 * its binary result mode decodes every field as UTF-8 text before handing it over, which mangles
 * ciphertexts. `COPY (SELECT ...) TO STDOUT (FORMAT binary)` sends the ciphertexts as raw bytes
 * instead, in chunks that are parsed as they arrive and handed on in batches, so that the first
 * batches are decrypted while the rest is still on its way.
 *
 * COPY takes no bound parameters, so the condition values are written into the statement as
 * literals: integers as digits, text escaped by node-postgres's `escapeLiteral`. `readPayloadRows`
 * has already refused any other value and any name that is not a plain identifier.
 */

/** Rows are handed on for decryption in batches of this many; the last one may be smaller. */
export const ROWS_PER_BATCH = 2_000;

/** Reads the rows of a checked query on a connection of the pool, in batches. */
export async function* readPostgresPayloadRows(
  pool: pg.Pool,
  query: PayloadRowQuery,
): AsyncGenerator<EncryptedRow[]> {
  const parser = new CopyBinaryParser(fieldsOf(query));
  const client = await pool.connect();
  let hasEnded = false;
  try {
    const stream = client.query(copyTo(copyStatement(query)));
    // Closing the connection mid-COPY makes node-postgres fail the stream once more, after the
    // loop below has let go of it. Node 20's stream iterator happens to leave a listener behind,
    // but an 'error' event nobody listens to would end the process, so this one is explicit.
    stream.on('error', () => undefined);
    let batch: EncryptedRow[] = [];
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      for (const row of parser.push(chunk)) batch.push(row);
      if (batch.length < ROWS_PER_BATCH) continue;
      yield batch;
      batch = [];
    }
    parser.finish();
    hasEnded = true;
    if (batch.length > 0) yield batch;
  } finally {
    // A connection left in the middle of a COPY (the reader stopped early or the stream
    // failed) cannot serve another query, so it is closed instead of returned to the pool.
    client.release(hasEnded ? undefined : true);
  }
}

/**
 * The COPY statement: plain columns cast to the types the decoders expect, then the payload.
 * Every column is named with its table, because a bare name in ORDER BY means the output column
 * of that name, which is the cast: ordering by `seq::int8` instead of `seq` cannot use the
 * index on `seq` and sorts all rows first.
 */
export function copyStatement(query: PayloadRowQuery): string {
  const column = (name: string): string => `${quote(query.table)}.${quote(name)}`;
  const columns = Object.entries(query.columns).map(
    ([name, type]) => `${column(name)}::${type.startsWith('integer') ? 'int8' : 'text'}`,
  );
  const select = [...columns, `${column(query.payloadColumn)}::bytea`].join(', ');

  let statement = `SELECT ${select} FROM ${quote(query.table)}`;
  if (query.where !== undefined && query.where.length > 0) {
    const conditions = query.where.map((condition) =>
      conditionSql(column(condition.column), condition),
    );
    statement += ` WHERE ${conditions.join(' AND ')}`;
  }
  if (query.orderBy !== undefined && query.orderBy.length > 0) {
    const keys = query.orderBy.map(
      (order) => `${column(order.column)} ${order.direction ?? 'asc'}`,
    );
    statement += ` ORDER BY ${keys.join(', ')}`;
  }
  if (query.limit !== undefined) statement += ` LIMIT ${literal(query.limit)}`;
  return `COPY (${statement}) TO STDOUT (FORMAT binary)`;
}

function conditionSql(column: string, condition: PayloadRowCondition): string {
  if (condition.op === 'is null') return `${column} IS NULL`;
  if (condition.op === 'is not null') return `${column} IS NOT NULL`;
  if (condition.op === 'in') return `${column} IN (${condition.value.map(literal).join(', ')})`;
  return `${column} ${condition.op} ${literal(condition.value)}`;
}

function quote(identifier: string): string {
  return `"${identifier}"`;
}

function literal(value: string | number): string {
  return typeof value === 'number' ? String(value) : pg.escapeLiteral(value);
}

/** How each field of a row decodes, in the order of the statement's select list. */
function fieldsOf(query: PayloadRowQuery): CopyField[] {
  const fields: CopyField[] = Object.entries(query.columns).map(([name, type]) => ({
    name,
    decode: type.startsWith('integer')
      ? (buffer, start) => int8Of(buffer, start, query, name)
      : textOf,
  }));
  fields.push({
    name: query.payloadColumn,
    decode: (buffer, start, end) => buffer.subarray(start, end),
  });
  return fields;
}

function textOf(buffer: Buffer, start: number, end: number): string {
  return buffer.toString('utf8', start, end);
}

function int8Of(buffer: Buffer, start: number, query: PayloadRowQuery, column: string): number {
  const value = Number(buffer.readBigInt64BE(start));
  if (Number.isSafeInteger(value)) return value;
  throw new SluiceError(
    'state_error',
    `Column '${query.table}.${column}' holds an integer beyond 2^53, which Sluice cannot read ` +
      'as a number; declare the column as text in the payload row query',
  );
}
