import { SluiceError } from '../../core/errors.js';
import type { TableName } from '../engine-adapter.js';

/** PostgreSQL keeps the first 63 bytes of a name (NAMEDATALEN - 1) and silently drops the rest. */
export const POSTGRES_MAX_IDENTIFIER_BYTES = 63;

/**
 * Quotes an identifier with double quotes, doubling embedded ones. Refuses a name PostgreSQL
 * would truncate, since two long names could then silently become one table.
 */
export function quotePostgresIdentifier(identifier: string): string {
  const bytes = Buffer.byteLength(identifier, 'utf8');
  if (bytes > POSTGRES_MAX_IDENTIFIER_BYTES) {
    throw new SluiceError(
      'identifier_too_long',
      `Identifier '${identifier}' is ${bytes} bytes long but PostgreSQL keeps only ` +
        `${POSTGRES_MAX_IDENTIFIER_BYTES} bytes of a name and would silently cut it; ` +
        'choose a shorter name',
    );
  }
  if (bytes === 0 || identifier.includes('\0')) {
    throw new SluiceError(
      'engine_error',
      'PostgreSQL names cannot be empty or contain a NUL character; choose another name',
    );
  }
  return `"${identifier.replaceAll('"', '""')}"`;
}

/** Quotes `schema.name`. */
export function quotePostgresTable(table: TableName): string {
  return `${quotePostgresIdentifier(table.schema)}.${quotePostgresIdentifier(table.name)}`;
}
