import { closeSync, openSync, readSync } from 'node:fs';

/** A header longer than this is not read whole; its columns past the limit are not seen. */
export const CSV_HEADER_MAX_BYTES = 64 * 1024;

/**
 * The fields of a CSV file's header row, or undefined when the file cannot be opened. Reads only
 * the start of the file. An empty file gives `['']`.
 */
export function readCsvHeader(path: string): string[] | undefined {
  let descriptor: number;
  try {
    descriptor = openSync(path, 'r');
  } catch {
    return undefined;
  }
  try {
    const buffer = Buffer.alloc(CSV_HEADER_MAX_BYTES);
    const length = readSync(descriptor, buffer, 0, CSV_HEADER_MAX_BYTES, 0);
    return parseCsvHeader(buffer.subarray(0, length).toString('utf8'));
  } finally {
    closeSync(descriptor);
  }
}

/**
 * The fields of the first record of CSV text (RFC 4180): a leading byte order mark is skipped,
 * fields are separated by commas, a field in double quotes may hold commas, line breaks and
 * doubled quotes. The record ends at the first line break outside quotes.
 */
export function parseCsvHeader(text: string): string[] {
  const fields: string[] = [];
  let field = '';
  let isQuoted = false;
  const start = text.startsWith('\uFEFF') ? 1 : 0;
  for (let index = start; index < text.length; index++) {
    const char = text[index];
    if (char === '"' && isQuoted && text[index + 1] === '"') {
      field += '"';
      index++;
    } else if (char === '"') {
      isQuoted = !isQuoted;
    } else if (char === ',' && !isQuoted) {
      fields.push(field);
      field = '';
    } else if ((char === '\n' || char === '\r') && !isQuoted) {
      break;
    } else {
      field += char;
    }
  }
  fields.push(field);
  return fields;
}
