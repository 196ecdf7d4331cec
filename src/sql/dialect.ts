import type { Dialect } from '../core/model.js';
import type { TableName } from '../core/table-resolver.js';

/** How each dialect limits identifiers; PostgreSQL truncates past 63 bytes, so Sluice must not. */
export const MAX_IDENTIFIER_BYTES: Readonly<Record<Dialect, number>> = {
  duckdb: Number.POSITIVE_INFINITY,
  postgres: 63,
};

/** Quotes one identifier for the dialect (both use double quotes, doubling embedded ones). */
export function quoteIdentifier(_dialect: Dialect, identifier: string): string {
  return `"${identifier.replaceAll('"', '""')}"`;
}

/** Quotes a normalised dotted name (`shop.orders`) part by part: `"shop"."orders"`. */
export function quoteTableName(dialect: Dialect, name: string): string {
  return name
    .split('.')
    .map((part) => quoteIdentifier(dialect, part))
    .join('.');
}

/** Quotes a table given by parts: `"schema"."name"`. */
export function quoteTable(dialect: Dialect, table: TableName): string {
  return `${quoteIdentifier(dialect, table.schema)}.${quoteIdentifier(dialect, table.name)}`;
}
