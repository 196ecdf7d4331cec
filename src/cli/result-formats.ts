import type { ColumnInfo, Row } from '../engines/engine-adapter.js';

/**
 * How `sluice evaluate` prints rows: an aligned table for people, JSON and CSV for programs.
 * Timestamps read as UTC print as `YYYY-MM-DD HH:MM:SS[.mmm]` in the table and CSV and as ISO
 * 8601 in JSON; big integers that the adapters give as strings stay strings.
 */

export type ResultFormat = 'table' | 'json' | 'csv';

export const RESULT_FORMATS: readonly ResultFormat[] = ['table', 'json', 'csv'];

/** Rows to print, and whether the query had more than were fetched. */
export type PrintedResult = {
  readonly columns: readonly ColumnInfo[];
  readonly rows: readonly Row[];
  readonly isTruncated: boolean;
};

/** Formats a result in one of the formats; the text ends with a line break. */
export function formatResult(result: PrintedResult, format: ResultFormat): string {
  if (format === 'json') return formatJson(result);
  if (format === 'csv') return formatCsv(result);
  return formatTable(result);
}

/** Columns padded to their widest value, numbers aligned right, and a line counting the rows. */
export function formatTable(result: PrintedResult): string {
  const names = result.columns.map((column) => column.name);
  const cells = result.rows.map((row) =>
    result.columns.map((column) => tableText(row[column.name], column)),
  );
  const isNumeric = result.columns.map((column) =>
    result.rows.some((row) => isNumber(row[column.name])),
  );
  const widths = names.map((name, index) =>
    Math.max(width(name), ...cells.map((row) => width(row[index] ?? ''))),
  );

  const line = (values: readonly string[], alignRight: (index: number) => boolean) =>
    values
      .map((value, index) => pad(value, widths[index] ?? 0, alignRight(index)))
      .join(' | ')
      .trimEnd();
  const lines = [
    line(names, () => false),
    widths.map((columnWidth) => '-'.repeat(columnWidth)).join('-+-'),
    ...cells.map((row) => line(row, (index) => isNumeric[index] === true)),
  ];
  return `${lines.join('\n')}\n${rowCountLine(result)}\n`;
}

function rowCountLine(result: PrintedResult): string {
  const count = result.rows.length;
  if (result.isTruncated) {
    return `(first ${count} row${count === 1 ? '' : 's'}; more exist: pass --limit 0 to see all)`;
  }
  return `(${count} row${count === 1 ? '' : 's'})`;
}

/** A JSON array of row objects, one per line. */
export function formatJson(result: PrintedResult): string {
  if (result.rows.length === 0) return '[]\n';
  const rows = result.rows.map((row) => {
    const entries = result.columns.map((column) => [column.name, jsonValue(row[column.name])]);
    return `  ${JSON.stringify(Object.fromEntries(entries))}`;
  });
  return `[\n${rows.join(',\n')}\n]\n`;
}

/** RFC 4180: a header row, CRLF line ends, fields quoted when they hold a comma, quote or break. */
export function formatCsv(result: PrintedResult): string {
  const header = result.columns.map((column) => csvField(column.name));
  const rows = result.rows.map((row) =>
    result.columns.map((column) => {
      const value = row[column.name];
      return value === null || value === undefined ? '' : csvField(plainText(value, column));
    }),
  );
  return [header, ...rows].map((fields) => `${fields.join(',')}\r\n`).join('');
}

function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

function tableText(value: unknown, column: ColumnInfo): string {
  if (value === null || value === undefined) return 'NULL';
  return plainText(value, column).replaceAll('\r', '\\r').replaceAll('\n', '\\n');
}

/** A value as text, the way both engines would read it back. */
function plainText(value: unknown, column: ColumnInfo): string {
  if (value instanceof Date) return timestampText(value, column);
  if (value instanceof Uint8Array) return hexText(value);
  if (typeof value === 'object' && value !== null) return JSON.stringify(jsonValue(value));
  return String(value);
}

function jsonValue(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array) return hexText(value);
  if (Array.isArray(value)) return value.map(jsonValue);
  if (typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, jsonValue(item)]));
  }
  return value;
}

function timestampText(value: Date, column: ColumnInfo): string {
  const text = value
    .toISOString()
    .replace('T', ' ')
    .replace(/\.000Z$/, 'Z')
    .replace('Z', '');
  return /TIME ZONE|TZ/.test(column.type) ? `${text}+00` : text;
}

function hexText(bytes: Uint8Array): string {
  return `\\x${Buffer.from(bytes).toString('hex')}`;
}

function isNumber(value: unknown): boolean {
  return typeof value === 'number' || typeof value === 'bigint';
}

function width(text: string): number {
  return [...text].length;
}

function pad(text: string, columnWidth: number, alignRight: boolean): string {
  const padding = ' '.repeat(Math.max(0, columnWidth - width(text)));
  return alignRight ? padding + text : text + padding;
}
