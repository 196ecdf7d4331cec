import { constants, createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { SluiceError } from '../../core/errors.js';
import { csvChunks } from './postgres-csv.js';

/**
 * Bulk loading through `COPY ... FROM STDIN WITH (FORMAT csv)`. Data flows through a stream
 * pipeline, so rows are encoded only as fast as the server takes them. Aborting the signal
 * destroys the COPY stream, which sends CopyFail: the server drops everything this COPY sent.
 */

/** What to copy into: the quoted table and its quoted columns (all columns when empty). */
export type CopyTarget = {
  readonly quotedTable: string;
  readonly quotedColumns: readonly string[];
};

/** Copies rows encoded as CSV; resolves to the row count the server reports. */
export async function copyRows(
  client: pg.PoolClient,
  target: CopyTarget,
  rows: Iterable<readonly unknown[]> | AsyncIterable<readonly unknown[]>,
  signal: AbortSignal | undefined,
): Promise<number> {
  const source = Readable.from(csvChunks(rows, target.quotedColumns.length), {
    objectMode: false,
  });
  return copyFromSource(client, copyStatement(target, false), source, signal);
}

/** Copies a CSV file with a header row, as psql's `\copy ... csv header` does. */
export async function copyCsvFile(
  client: pg.PoolClient,
  target: CopyTarget,
  path: string,
  signal: AbortSignal | undefined,
): Promise<number> {
  await access(path, constants.R_OK).catch((error: unknown) => {
    throw new SluiceError(
      'engine_error',
      `Cannot read the CSV file '${path}' to load it; check that it exists and is readable`,
      { cause: error },
    );
  });
  const source = createReadStream(path, { highWaterMark: 1 << 16 });
  return copyFromSource(client, copyStatement(target, true), source, signal);
}

async function copyFromSource(
  client: pg.PoolClient,
  statement: string,
  source: Readable,
  signal: AbortSignal | undefined,
): Promise<number> {
  const copy = client.query(copyFrom(statement));
  await pipeline(source, copy, signal === undefined ? {} : { signal });
  return copy.rowCount;
}

function copyStatement(target: CopyTarget, hasHeader: boolean): string {
  const columns = target.quotedColumns.length === 0 ? '' : ` (${target.quotedColumns.join(', ')})`;
  const options = hasHeader ? 'FORMAT csv, HEADER true' : 'FORMAT csv';
  return `COPY ${target.quotedTable}${columns} FROM STDIN WITH (${options})`;
}
