/**
 * The physical table of a model version (DESIGN.md section 4): schema `sluice__<schema>`, table
 * `<schema>__<name>__<version>`. An engine that limits identifier length gets a shortened name
 * that is still unique and stable, never a truncated one: PostgreSQL silently cuts names past 63
 * bytes, so two long names that share their first 63 bytes would land in one table.
 */

import { SluiceError } from './errors.js';
import { sha256Hex } from './fingerprint.js';
import { type TableName, tableOfModelName } from './table-resolver.js';

/** The longest identifier each engine keeps, in UTF-8 bytes; undefined where there is no limit. */
export const IDENTIFIER_LIMIT_BYTES: Readonly<Record<'duckdb' | 'postgres', number | undefined>> = {
  postgres: 63,
  duckdb: undefined,
};

/** The schema part of a model name that has none. */
export const DEFAULT_SCHEMA = 'default';

/** How many hex characters of SHA-256 a shortened identifier ends with. */
const SHORTENED_HASH_LENGTH = 12;

/** `__` and the hash that end a shortened identifier. */
const SHORTENED_SUFFIX_BYTES = 2 + SHORTENED_HASH_LENGTH;

/**
 * The physical table of a model version. `shop.orders` at version `v` is
 * `sluice__shop.shop__orders__v`; a name without schema uses `default`, and a three-part name
 * `catalog.schema.name` uses its schema and name (its version covers the full name, so two
 * catalogs' models still get two tables). Each identifier longer than the limit is shortened.
 */
export function physicalTableOf(
  modelName: string,
  version: string,
  identifierLimitBytes: number | undefined,
): TableName {
  const table = tableOfModelName(modelName);
  const schema = table.schema === '' ? DEFAULT_SCHEMA : table.schema;

  return {
    schema: fitIdentifier(`sluice__${schema}`, identifierLimitBytes),
    name: fitIdentifier(`${schema}__${table.name}__${version}`, identifierLimitBytes),
  };
}

/**
 * An identifier within the limit: unchanged when it fits, otherwise its longest prefix that fits,
 * cut between characters, then `__` and 12 hex characters of SHA-256 of the whole identifier. The
 * result is at most `limitBytes` long, readable, the same every time, and different for different
 * identifiers (unless SHA-256 collides in 48 bits).
 */
export function fitIdentifier(identifier: string, limitBytes: number | undefined): string {
  if (limitBytes === undefined || utf8Length(identifier) <= limitBytes) return identifier;
  if (limitBytes <= SHORTENED_SUFFIX_BYTES) {
    throw new SluiceError(
      'internal',
      `An identifier limit of ${limitBytes} bytes leaves no room for a readable prefix; ` +
        `shortening needs more than ${SHORTENED_SUFFIX_BYTES} bytes`,
    );
  }

  const hash = sha256Hex(identifier).slice(0, SHORTENED_HASH_LENGTH);
  return `${prefixWithin(identifier, limitBytes - SHORTENED_SUFFIX_BYTES)}__${hash}`;
}

/** The identifier's length in UTF-8 bytes. */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (const char of text) bytes += charUtf8Length(char);
  return bytes;
}

/** The longest prefix of whole characters (code points) that fits in `limitBytes`. */
function prefixWithin(text: string, limitBytes: number): string {
  let bytes = 0;
  let end = 0;
  for (const char of text) {
    bytes += charUtf8Length(char);
    if (bytes > limitBytes) break;
    end += char.length;
  }
  return text.slice(0, end);
}

/** UTF-8 length of one code point; a lone surrogate is written as U+FFFD, three bytes. */
function charUtf8Length(char: string): number {
  const code = char.codePointAt(0) ?? 0;
  if (code < 0x80) return 1;
  if (code < 0x800) return 2;
  return code < 0x10000 ? 3 : 4;
}
