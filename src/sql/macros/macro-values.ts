/**
 * What a macro stands for, and how values become SQL text: strings are quoted, numbers and
 * booleans are written as SQL literals, lists become comma-separated items.
 */

import { type Token, tokenize } from '../lexer.js';
import type { MacroValue } from '../macro-context.js';
import {
  isPunctuation,
  isTrivia,
  matchingClose,
  rangeText,
  splitArguments,
  splitTopLevel,
  type TokenRange,
  trimRange,
} from './macro-tokens.js';

/** What a macro expands to: its SQL text, its `@{}` text, and the value conditions compare. */
export type MacroBinding = {
  /** The SQL text that `@name` becomes. */
  readonly sql: string;
  /** The text that `@{name}` becomes: like `sql`, but strings are inserted without quotes. */
  readonly raw: string;
  /** The value of a literal or a list of literals; undefined for any other SQL text. */
  readonly value: MacroValue | undefined;
  /** The items of a list, for @EACH; undefined when the binding is not a list. */
  readonly items: readonly MacroBinding[] | undefined;
};

/** The binding of SQL text that is not a literal, such as `a + b` or a rendered @IF. */
export function sqlBinding(sql: string): MacroBinding {
  return { sql, raw: sql, value: undefined, items: undefined };
}

/** The binding of a value, such as a project variable from sluice.yaml. */
export function bindingOfValue(value: MacroValue): MacroBinding {
  if (isList(value)) return listBinding(value.map(bindingOfValue));
  if (typeof value === 'string') {
    return { sql: quoteSqlString(value), raw: value, value, items: undefined };
  }
  const sql =
    value === null
      ? 'NULL'
      : typeof value === 'boolean'
        ? String(value).toUpperCase()
        : String(value);
  return { sql, raw: sql, value, items: undefined };
}

/** A string as a SQL string literal, single quotes doubled. */
export function quoteSqlString(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/**
 * Reads rendered SQL text as a binding: a literal (string, number, boolean, NULL), a list
 * `[a, b]` or `(a, b)` whose items are read the same way, or else SQL text kept as written.
 * Strings and numbers keep their written form (`1.50` stays `1.50`); booleans become TRUE/FALSE.
 */
export function parseBinding(text: string): MacroBinding {
  const sql = text.trim();
  const tokens = tokenize(sql);
  const inner = listInner(tokens);
  if (inner !== undefined) {
    const items = splitArguments(tokens, inner);
    return listBinding(items.map((item) => parseBinding(rangeText(sql, tokens, item))));
  }

  const value = literalOfTokens(tokens.filter((token) => !isTrivia(token)));
  if (value === undefined) return sqlBinding(sql);
  if (typeof value === 'boolean' || value === null) return bindingOfValue(value);
  return { sql, raw: typeof value === 'string' ? value : sql, value, items: undefined };
}

/**
 * The value of a single SQL literal: a plain string, a number (optionally negative), TRUE,
 * FALSE or NULL. Undefined for anything else, including escape and dollar-quoted strings.
 */
export function parseLiteral(text: string): MacroValue | undefined {
  return literalOfTokens(tokenize(text).filter((token) => !isTrivia(token)));
}

/** The value of one literal token (a number, a plain string, TRUE, FALSE or NULL), if it is one. */
export function literalOfToken(token: Token): MacroValue | undefined {
  if (token.type === 'number') return numberOf(token.text);
  if (token.type === 'string') return stringOf(token.text);
  if (token.type !== 'identifier') return undefined;
  return KEYWORD_VALUES.get(token.text.toLowerCase());
}

function literalOfTokens(significant: readonly Token[]): MacroValue | undefined {
  const [first, second] = significant;
  if (first === undefined || significant.length > 2) return undefined;
  if (second === undefined) return literalOfToken(first);

  const isNegative = first.type === 'operator' && first.text === '-' && second.type === 'number';
  const magnitude = isNegative ? numberOf(second.text) : undefined;
  return magnitude === undefined ? undefined : -magnitude;
}

const KEYWORD_VALUES = new Map<string, MacroValue>([
  ['true', true],
  ['false', false],
  ['null', null],
]);

function numberOf(text: string): number | undefined {
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}

function stringOf(text: string): string | undefined {
  const isPlain = text.length >= 2 && text.startsWith("'") && text.endsWith("'");
  return isPlain ? text.slice(1, -1).replaceAll("''", "'") : undefined;
}

function isList(value: MacroValue): value is readonly MacroValue[] {
  return Array.isArray(value);
}

function listBinding(items: readonly MacroBinding[]): MacroBinding {
  return {
    sql: items.map((item) => item.sql).join(', '),
    raw: items.map((item) => item.raw).join(', '),
    value: valuesOf(items),
    items,
  };
}

/** The items' values when every item is a value; a list with any other SQL text has none. */
function valuesOf(items: readonly MacroBinding[]): MacroValue[] | undefined {
  const values: MacroValue[] = [];
  for (const item of items) {
    if (item.value === undefined) return undefined;
    values.push(item.value);
  }
  return values;
}

/**
 * The inside of a list literal spanning the whole text: `[...]` always, `(...)` only with a
 * top-level comma, since `(a + b)` is an expression in parentheses.
 */
function listInner(tokens: readonly Token[]): TokenRange | undefined {
  const whole = trimRange(tokens, { from: 0, to: tokens.length });
  const open = tokens[whole.from];
  const isBracket = isPunctuation(open, '[');
  if (!isBracket && !isPunctuation(open, '(')) return undefined;
  if (matchingClose(tokens, whole.from, whole.to) !== whole.to - 1) return undefined;

  const inner = { from: whole.from + 1, to: whole.to - 1 };
  if (isBracket) return inner;
  return splitTopLevel(tokens, inner).length > 1 ? inner : undefined;
}
