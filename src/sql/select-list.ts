/**
 * Finds the select list of a query's outermost SELECT in its tokens: after any WITH list, the
 * tokens at bracket depth 0 between SELECT (and DISTINCT, DISTINCT ON (...) or ALL) and the first
 * clause keyword (FROM, WHERE, ..., or a set operation), split into items at depth-0 commas.
 */

import { isPunctuation, type QueryTokens, upperWord } from './query-tokens.js';

/** One item of a select list; `start` and `end` are token indexes, `end` exclusive. */
export type SelectItem = {
  readonly start: number;
  readonly end: number;
  /** The item's canonical tokens joined by one space. */
  readonly canonical: string;
  /** The item as written, runs of white space shown as one space. */
  readonly text: string;
  /** The output column's name where the item writes it: an alias, or a column name. */
  readonly name: string | undefined;
  /** Whether the name comes from an alias (`x AS name`, or DuckDB's `name: x`). */
  readonly isAliased: boolean;
  /** The column the item (before any alias) names directly: `x` in `x`, `t.x` or `t.x AS y`. */
  readonly column: string | undefined;
  /** Whether the item stands for columns not written out: `*`, `t.*`, COLUMNS(...), @STAR. */
  readonly expandsColumns: boolean;
};

/** A SELECT query's select list: where it lies among the tokens, and its items. */
export type SelectList = {
  readonly start: number;
  readonly end: number;
  readonly items: readonly SelectItem[];
  readonly isDistinct: boolean;
};

/** The select list of a query, or why none was found. */
export type SelectListReading =
  | { readonly kind: 'select'; readonly list: SelectList }
  | { readonly kind: 'unreadable'; readonly reason: string };

/** Keywords that end a select list at depth 0. */
const LIST_ENDS = new Set([
  'FROM',
  'INTO',
  'WHERE',
  'GROUP',
  'HAVING',
  'WINDOW',
  'QUALIFY',
  'ORDER',
  'LIMIT',
  'OFFSET',
  'FETCH',
  'FOR',
  'UNION',
  'INTERSECT',
  'EXCEPT',
]);

/** Macros that expand to several select items. */
const EXPANDING_MACROS = new Set(['@STAR', '@EACH']);

/** Reads the select list of the outermost SELECT of a query. */
export function readSelectList(query: QueryTokens): SelectListReading {
  const selectAt = mainQueryStart(query);
  const keyword = query.keywords[selectAt];
  if (keyword === 'FROM') {
    return unreadable('the query is written FROM-first, so its select list is not compared');
  }
  if (keyword !== 'SELECT') return unreadable('the query does not start with SELECT');

  const { start, isDistinct } = skipModifiers(query, selectAt + 1);
  const end = listEnd(query, start);
  const items = splitItems(query, start, end);
  return { kind: 'select', list: { start, end, items, isDistinct } };
}

function unreadable(reason: string): SelectListReading {
  return { kind: 'unreadable', reason };
}

/**
 * Where the main query starts: 0 without WITH, else the token after the last CTE body, the
 * bracket after AS or MATERIALIZED that is not followed by a comma.
 */
function mainQueryStart(query: QueryTokens): number {
  if (query.keywords[0] !== 'WITH') return 0;
  for (let index = 1; index < query.tokens.length; index++) {
    if (!isPunctuation(query.tokens[index], '(')) continue;
    const close = query.partners[index] ?? index;
    const before = query.keywords[index - 1];
    const isBody = before === 'AS' || before === 'MATERIALIZED';
    if (isBody && !isPunctuation(query.tokens[close + 1], ',')) return close + 1;
    index = close;
  }
  return query.tokens.length;
}

/** Skips DISTINCT, DISTINCT ON (...) or ALL after SELECT. */
function skipModifiers(query: QueryTokens, index: number): { start: number; isDistinct: boolean } {
  const keyword = query.keywords[index];
  if (keyword === 'ALL') return { start: index + 1, isDistinct: false };
  if (keyword !== 'DISTINCT') return { start: index, isDistinct: false };

  const hasOn = query.keywords[index + 1] === 'ON' && isPunctuation(query.tokens[index + 2], '(');
  const start = hasOn ? (query.partners[index + 2] ?? index) + 1 : index + 1;
  return { start, isDistinct: true };
}

/** The first depth-0 clause keyword after `start`. */
function listEnd(query: QueryTokens, start: number): number {
  for (let index = start; index < query.tokens.length; index++) {
    const keyword = query.keywords[index];
    if (query.depths[index] !== 0 || keyword === undefined || !LIST_ENDS.has(keyword)) continue;
    if (!isInsideItem(query, index, keyword)) return index;
  }
  return query.tokens.length;
}

/**
 * Clause keywords that belong to an expression: `WITHIN GROUP (...)`, `a IS DISTINCT FROM b` and
 * DuckDB's `* EXCEPT (a)`; GROUP and ORDER start a clause only before BY.
 */
function isInsideItem(query: QueryTokens, index: number, keyword: string): boolean {
  switch (keyword) {
    case 'GROUP':
    case 'ORDER':
      return query.keywords[index + 1] !== 'BY';
    case 'FROM':
      return query.keywords[index - 1] === 'DISTINCT';
    case 'EXCEPT':
      return query.tokens[index - 1]?.text === '*' && isPunctuation(query.tokens[index + 1], '(');
    default:
      return false;
  }
}

/** Splits the list at depth-0 commas; an empty item (DuckDB's trailing comma) is left out. */
function splitItems(query: QueryTokens, start: number, end: number): SelectItem[] {
  const items: SelectItem[] = [];
  let itemStart = start;
  for (let index = start; index < end; index++) {
    const isSeparator = query.depths[index] === 0 && isPunctuation(query.tokens[index], ',');
    if (!isSeparator) continue;
    if (index > itemStart) items.push(readItem(query, itemStart, index));
    itemStart = index + 1;
  }
  if (end > itemStart) items.push(readItem(query, itemStart, end));
  return items;
}

function readItem(query: QueryTokens, start: number, end: number): SelectItem {
  const first = query.tokens[start];
  const last = query.tokens[end - 1];
  const written = query.sql.slice(first?.start ?? 0, last?.end ?? 0);
  const alias = readAlias(query, start, end);
  const column = columnName(query, alias?.expressionStart ?? start, alias?.expressionEnd ?? end);
  return {
    start,
    end,
    canonical: query.canonical.slice(start, end).join(' '),
    text: written.replace(/\s+/g, ' '),
    name: alias?.name ?? column,
    isAliased: alias !== undefined,
    column,
    expandsColumns: expandsColumns(query, start, end),
  };
}

/** Where an item's alias is written: `expression AS name` or DuckDB's `name: expression`. */
type Alias = {
  readonly name: string;
  readonly expressionStart: number;
  readonly expressionEnd: number;
};

function readAlias(query: QueryTokens, start: number, end: number): Alias | undefined {
  if (end - start < 3) return undefined;
  const suffix = query.keywords[end - 2] === 'AS' ? namePart(query, end - 1) : undefined;
  if (suffix !== undefined) return { name: suffix, expressionStart: start, expressionEnd: end - 2 };

  const colon = query.tokens[start + 1];
  const isPrefix = colon?.type === 'operator' && colon.text === ':';
  const prefix = isPrefix ? namePart(query, start) : undefined;
  return prefix === undefined
    ? undefined
    : { name: prefix, expressionStart: start + 2, expressionEnd: end };
}

/** The last part of `name`, `t.name` or `s.t.name`. */
function columnName(query: QueryTokens, start: number, end: number): string | undefined {
  if ((end - start) % 2 === 0) return undefined;
  for (let index = start + 1; index < end; index += 2) {
    if (!isPunctuation(query.tokens[index], '.')) return undefined;
  }
  for (let index = start; index < end; index += 2) {
    if (namePart(query, index) === undefined) return undefined;
  }
  return namePart(query, end - 1);
}

/** The name a token spells: an unquoted word that is no keyword, or a quoted identifier. */
function namePart(query: QueryTokens, index: number): string | undefined {
  const token = query.tokens[index];
  if (token?.type === 'quoted_identifier') return token.text.slice(1, -1).replaceAll('""', '"');
  const isName = token?.type === 'identifier' && query.keywords[index] === undefined;
  return isName ? token.text : undefined;
}

/** A depth-0 `*` that is not a product, COLUMNS(...) at any depth, or an expanding macro. */
function expandsColumns(query: QueryTokens, start: number, end: number): boolean {
  for (let index = start; index < end; index++) {
    const token = query.tokens[index];
    const isStar = token?.type === 'operator' && token.text === '*' && query.depths[index] === 0;
    if (isStar && (index === start || isPunctuation(query.tokens[index - 1], '.'))) return true;

    const isColumnsCall =
      upperWord(token) === 'COLUMNS' && isPunctuation(query.tokens[index + 1], '(');
    const isMacro = token?.type === 'macro' && EXPANDING_MACROS.has(token.text.toUpperCase());
    if (isColumnsCall || isMacro) return true;
  }
  return false;
}
