/**
 * Model and table names. A name is written as dot-separated parts (`shop.orders`, `"My Schema".x`);
 * its normal form lower-cases the unquoted parts, keeps quoted parts as written (without quotes)
 * and joins them with dots, so that names compare the way DuckDB and PostgreSQL resolve them.
 */

import { SluiceError } from './errors.js';

/**
 * One dot-separated part of a name as written: its text without quotes, and whether it was quoted.
 */
export type NamePart = { readonly text: string; readonly quoted: boolean };

/** Joins name parts into the normal form: unquoted parts lower-cased, quoted parts kept. */
export function normaliseTableName(parts: readonly NamePart[]): string {
  return parts.map((part) => (part.quoted ? part.text : part.text.toLowerCase())).join('.');
}

/**
 * Parses a written name such as `a.b` or `"A".b` into its normal form; throws when it is not a
 * name.
 */
export function parseQualifiedName(text: string): string {
  const parts = splitQualifiedName(text);
  if (parts === undefined) {
    throw new SluiceError(
      'usage',
      `'${text}' is not a valid table name; write it as schema.table, with double quotes around parts that need them`,
    );
  }
  return normaliseTableName(parts);
}

/** Splits a written name into its parts, or returns undefined when the text is not a name. */
export function splitQualifiedName(text: string): NamePart[] | undefined {
  const parts: NamePart[] = [];
  let position = skipSpaces(text, 0);
  for (;;) {
    const part = text[position] === '"' ? scanQuoted(text, position) : scanBare(text, position);
    if (part === undefined) return undefined;
    parts.push(part.part);

    position = skipSpaces(text, part.end);
    if (position === text.length) return parts;
    if (text[position] !== '.') return undefined;
    position = skipSpaces(text, position + 1);
  }
}

type Scanned = { readonly part: NamePart; readonly end: number };

function scanQuoted(text: string, start: number): Scanned | undefined {
  let position = start + 1;
  while (position < text.length) {
    if (text[position] === '"' && text[position + 1] === '"') {
      position += 2;
    } else if (text[position] === '"') {
      return { part: unquoteIdentifier(text.slice(start, position + 1)), end: position + 1 };
    } else {
      position++;
    }
  }
  return undefined;
}

function scanBare(text: string, start: number): Scanned | undefined {
  if (!/[A-Za-z_\u0080-\uffff]/.test(text[start] ?? '')) return undefined;
  let end = start + 1;
  while (end < text.length && /[A-Za-z0-9_$\u0080-\uffff]/.test(text[end] ?? '')) end++;
  return { part: { text: text.slice(start, end), quoted: false }, end };
}

function skipSpaces(text: string, start: number): number {
  let position = start;
  while (position < text.length && /\s/.test(text[position] ?? '')) position++;
  return position;
}

/** Turns a double-quoted identifier (`"A ""b"""`) into its part (`A "b"`). */
export function unquoteIdentifier(quoted: string): NamePart {
  return { text: quoted.slice(1, -1).replaceAll('""', '"'), quoted: true };
}
