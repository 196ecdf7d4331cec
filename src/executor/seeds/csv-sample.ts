import { createReadStream } from 'node:fs';
import { parse } from 'csv-parse';

/** How many data rows type inference reads by default. */
export const SAMPLE_ROWS = 10_000;

/**
 * The first `maxRows` data rows of a CSV file (the header row skipped), read with a streaming
 * RFC 4180 parser that stops once it has them. A row whose field count differs from the
 * header's, or a malformed quote, rejects with csv-parse's CsvError, which names the line.
 */
export async function readCsvSample(
  path: string,
  maxRows: number,
  signal?: AbortSignal,
): Promise<string[][]> {
  const file = createReadStream(path, { signal });
  // `to` makes the parser stop at the last record wanted instead of parsing the rest of its chunk.
  const parser = file.pipe(parse({ bom: true, relax_column_count: false, to: maxRows + 1 }));
  file.on('error', (error) => parser.destroy(error));

  const rows: string[][] = [];
  let isHeader = true;
  try {
    for await (const record of parser) {
      if (isHeader) {
        isHeader = false;
        continue;
      }
      if (rows.length >= maxRows) break;
      rows.push(record as string[]);
    }
  } finally {
    file.destroy();
  }
  return rows;
}
