import type { ExportColumn } from './postgres-tables.js';

export { VERSION_TABLE } from '../version-table.js';

/**
 * The lines of a PostgreSQL export, one JSON value each, in this order: a start line naming the
 * tables, then for each table a line with its columns followed by one line per row, and an end
 * line with the row counts and schema version. Row values are PostgreSQL's text form, base64 for
 * bytes, or null.
 */

/** The column of the version table whose highest value is the schema version. */
export const VERSION_COLUMN = 'version';

/** A row's values in column order. */
export type ExportValue = string | null;

/** One parsed line. */
export type ExportLine =
  | { readonly kind: 'start'; readonly tables: readonly string[] }
  | { readonly kind: 'table'; readonly table: string; readonly columns: readonly ExportColumn[] }
  | { readonly kind: 'row'; readonly table: string; readonly row: readonly ExportValue[] }
  | {
      readonly kind: 'end';
      readonly schemaVersion: number;
      readonly rows: Readonly<Record<string, number>>;
    };

/** The text of a line. */
export function formatExportLine(line: ExportLine): string {
  switch (line.kind) {
    case 'start':
      return JSON.stringify({ format: 1, tables: line.tables });
    case 'table':
      return JSON.stringify({ table: line.table, columns: line.columns });
    case 'row':
      return JSON.stringify({ table: line.table, row: line.row });
    case 'end':
      return JSON.stringify({ end: true, schemaVersion: line.schemaVersion, rows: line.rows });
  }
}

/** Parses a line; undefined when it is not one of the four kinds. */
export function parseExportLine(text: string): ExportLine | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;

  const line = value as Record<string, unknown>;
  if (typeof line.table === 'string' && Array.isArray(line.row) && line.row.every(isValue)) {
    return { kind: 'row', table: line.table, row: line.row };
  }
  if (typeof line.table === 'string' && Array.isArray(line.columns)) {
    return isColumns(line.columns)
      ? { kind: 'table', table: line.table, columns: line.columns }
      : undefined;
  }
  if (line.format === 1 && isStringArray(line.tables))
    return { kind: 'start', tables: line.tables };
  if (line.end === true && Number.isInteger(line.schemaVersion) && isCounts(line.rows)) {
    return { kind: 'end', schemaVersion: line.schemaVersion as number, rows: line.rows };
  }
  return undefined;
}

function isValue(value: unknown): value is ExportValue {
  return value === null || typeof value === 'string';
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

function isColumns(value: unknown[]): value is ExportColumn[] {
  return value.every((item) => {
    const column = item as Partial<ExportColumn> | null;
    return (
      typeof column?.name === 'string' &&
      typeof column.type === 'string' &&
      typeof column.isBytes === 'boolean'
    );
  });
}

function isCounts(value: unknown): value is Record<string, number> {
  return (
    typeof value === 'object' &&
    value !== null &&
    Object.values(value).every((count) => Number.isInteger(count) && count >= 0)
  );
}
