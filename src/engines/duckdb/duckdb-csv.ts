/**
 * Loading a CSV file with DuckDB's own reader. Detection is off: the file must have a header row,
 * commas between fields and double quotes around fields that need them (a quote inside doubled),
 * as RFC 4180 and PostgreSQL's COPY CSV write it. An empty field is NULL; a quoted empty field is
 * an empty string, as in COPY.
 */

import { SluiceError } from '../../core/errors.js';
import { quoteIdentifier } from '../../sql/dialect.js';
import type { ColumnInfo, TableName } from '../engine-adapter.js';

/** The INSERT that appends a CSV file's rows to a table, or throws for an unknown column. */
export function csvInsertStatement(
  table: TableName,
  quotedTable: string,
  path: string,
  tableColumns: readonly ColumnInfo[],
  fileColumns: readonly string[],
): string {
  const byName = new Map(tableColumns.map((column) => [column.name.toLowerCase(), column]));
  const columns = fileColumns.map((name) => {
    const column = byName.get(name.toLowerCase());
    if (column === undefined) {
      throw new SluiceError(
        'engine_error',
        `Cannot load '${path}' into '${table.schema}.${table.name}': the table has no column '${name}'`,
      );
    }
    return column;
  });

  const names = columns.map((column) => quoteIdentifier('duckdb', column.name)).join(', ');
  const types = columns
    .map((column) => `${quoteString(column.name)}: ${quoteString(column.type)}`)
    .join(', ');
  const options = [
    'header = true',
    'auto_detect = false',
    "delim = ','",
    `quote = '"'`,
    `escape = '"'`,
    'allow_quoted_nulls = false',
    `columns = {${types}}`,
  ].join(', ');
  return `INSERT INTO ${quotedTable} (${names}) SELECT * FROM read_csv(${quoteString(path)}, ${options})`;
}

function quoteString(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}
