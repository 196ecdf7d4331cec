/**
 * Table references: what the parser walkers find (a name and where it starts) and what callers get
 * (a normalised name and the exact extent of the name in the SQL text, for rewriting).
 */

import { SqlSyntaxError } from './sql-syntax-error.js';
import { createOffsetConverter } from './text-offsets.js';
import { readWrittenName } from './written-name.js';

/**
 * Whether a statement reads a table or writes it (INSERT, UPDATE, DELETE, MERGE, CREATE targets).
 */
export type TableAccess = 'read' | 'write';

/** One occurrence of a table name in a statement. */
export type TableReference = {
  /** Normalised name: unquoted parts lower-cased, quoted parts kept, joined with '.'. */
  readonly name: string;
  readonly parts: readonly string[];
  readonly access: TableAccess;
  /** String index (not bytes) where the name starts in the SQL as written. */
  readonly start: number;
  /** String index just past the name's last part. */
  readonly end: number;
};

/** A reference as a walker found it in a syntax tree, before its extent in the text is known. */
export type FoundReference = {
  /** The name's parts as the parser reports them (catalog, schema, table; absent ones left out). */
  readonly parts: readonly string[];
  /** Where the name starts, in UTF-8 bytes, as both parsers report it. */
  readonly byteOffset: number;
  readonly access: TableAccess;
};

/** How the parser reported unquoted name parts. */
export type NameCase = 'normalised' | 'as-written';

/**
 * Finds each found reference in the text: reads the dotted name written at each start, which gives
 * its end, and normalises its parts. With `as-written` (DuckDB keeps the case of unquoted names),
 * unquoted parts are lower-cased here; quoted parts always keep the parser's spelling.
 */
export function locateReferences(
  sql: string,
  found: readonly FoundReference[],
  nameCase: NameCase,
): TableReference[] {
  if (found.length === 0) return [];
  const offsets = createOffsetConverter(sql);

  const located: TableReference[] = [];
  for (const reference of found) {
    if (reference.byteOffset < 0) throw unreadableName(reference, undefined);
    const start = offsets.fromByte(reference.byteOffset);
    const table = locateOne(sql, start, reference, nameCase);
    if (table !== undefined) located.push(table);
  }
  return located;
}

function locateOne(
  sql: string,
  start: number,
  reference: FoundReference,
  nameCase: NameCase,
): TableReference | undefined {
  const written = readWrittenName(sql, start);
  // DuckDB reads `FROM 'orders.csv'` as a scan of a file, not a table.
  if (written.kind === 'string') return undefined;
  const last = written.parts[written.parts.length - 1];
  if (last === undefined || written.parts.length !== reference.parts.length) {
    throw unreadableName(reference, start);
  }

  const parts = reference.parts.map((part, index) =>
    nameCase === 'as-written' && written.parts[index]?.isQuoted === false
      ? part.toLowerCase()
      : part,
  );
  return { name: parts.join('.'), parts, access: reference.access, start, end: last.end };
}

/** The parser reported a name that is not written at its location as Sluice reads names. */
function unreadableName(reference: FoundReference, start: number | undefined): SqlSyntaxError {
  return new SqlSyntaxError(
    `Sluice cannot find the table name '${reference.parts.join('.')}' in the SQL text; ` +
      'write it as plain or double-quoted names joined by dots',
    start,
  );
}
