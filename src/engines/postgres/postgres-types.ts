/**
 * Column type names for PostgreSQL, upper case and short: `INTEGER`, `TEXT`, `NUMERIC(10,2)`,
 * `VARCHAR(20)`, `TIMESTAMP`, `TIMESTAMPTZ`, `DOUBLE PRECISION`, `INTEGER[]`. Result columns carry
 * a type OID and modifier; common types are named from a table, any other is asked of the server
 * once (format_type) and remembered, so query results and describeTable name a type the same way.
 */

/** The names of built-in types without a modifier, by OID. */
const KNOWN_TYPES: ReadonlyMap<number, string> = new Map([
  [16, 'BOOLEAN'],
  [17, 'BYTEA'],
  [18, '"CHAR"'],
  [19, 'NAME'],
  [20, 'BIGINT'],
  [21, 'SMALLINT'],
  [23, 'INTEGER'],
  [25, 'TEXT'],
  [26, 'OID'],
  [114, 'JSON'],
  [700, 'REAL'],
  [701, 'DOUBLE PRECISION'],
  [1042, 'CHAR'],
  [1043, 'VARCHAR'],
  [1082, 'DATE'],
  [1083, 'TIME'],
  [1114, 'TIMESTAMP'],
  [1184, 'TIMESTAMPTZ'],
  [1186, 'INTERVAL'],
  [1266, 'TIMETZ'],
  [1700, 'NUMERIC'],
  [2950, 'UUID'],
  [3802, 'JSONB'],
]);

/** A result column's type as the server describes it. */
export type TypeReference = { readonly oid: number; readonly modifier: number };

/** Asks the server for `format_type` of each reference, in order. */
export type FormatTypes = (references: readonly TypeReference[]) => Promise<readonly string[]>;

/** Normalises `format_type` output: `timestamp(3) without time zone` → `TIMESTAMP(3)`. */
export function normaliseTypeName(formatted: string): string {
  return formatted
    .replace(/^(timestamp|time)(\(\d+\))? without time zone/, '$1$2')
    .replace(/^(timestamp|time)(\(\d+\))? with time zone/, '$1tz$2')
    .replace(/^character varying/, 'varchar')
    .replace(/^(character|bpchar)(?=$|\(|\[)/, 'char')
    .toUpperCase();
}

/** Remembers type names per adapter; unknown ones are looked up in one round trip. */
export class TypeNameCache {
  readonly #names = new Map<string, string>();

  /** The names of `references`, asking `formatTypes` only for the ones not seen before. */
  async resolve(references: readonly TypeReference[], formatTypes: FormatTypes) {
    const missing = references.filter((reference) => this.#lookup(reference) === undefined);
    if (missing.length > 0) {
      const formatted = await formatTypes(missing);
      missing.forEach((reference, index) => {
        this.#names.set(key(reference), normaliseTypeName(formatted[index] ?? 'unknown'));
      });
    }
    return references.map((reference) => this.#lookup(reference) ?? 'UNKNOWN');
  }

  #lookup(reference: TypeReference): string | undefined {
    const known = reference.modifier === -1 ? KNOWN_TYPES.get(reference.oid) : undefined;
    return known ?? this.#names.get(key(reference));
  }
}

function key(reference: TypeReference): string {
  return `${reference.oid}:${reference.modifier}`;
}
