/**
 * A query's significant tokens prepared for reading its structure without a parser, the same way
 * in every dialect and with macros kept as written: each token's canonical text and keyword, its
 * bracket depth and, for an opening bracket, where it closes.
 */

import { keywordAt } from './canonical-keywords.js';
import { significantTokens, type Token } from './lexer.js';

/** One query's significant tokens and what is known about each of them. */
export type QueryTokens = {
  readonly sql: string;
  readonly tokens: readonly Token[];
  /** Each token's canonical text (canonical-sql.ts): keywords upper-cased, the rest as written. */
  readonly canonical: readonly string[];
  /** The keyword each token is, or undefined where it is (or may be) a name. */
  readonly keywords: readonly (string | undefined)[];
  /** The bracket depth of each token; a bracket has the depth outside it. */
  readonly depths: readonly number[];
  /** For an opening bracket, the index of its closing one; -1 for every other token. */
  readonly partners: readonly number[];
};

/** The tokens of a query, or why its structure cannot be read. */
export type QueryTokensReading =
  | { readonly kind: 'tokens'; readonly query: QueryTokens }
  | { readonly kind: 'unreadable'; readonly reason: string };

const CLOSING_TO_OPENING: ReadonlyMap<string, string> = new Map([
  [')', '('],
  [']', '['],
  ['}', '{'],
]);
const OPENING = new Set(CLOSING_TO_OPENING.values());

/** Reads one query's tokens; trailing semicolons are dropped. */
export function readQueryTokens(sql: string): QueryTokensReading {
  const tokens = significantTokens(sql);
  while (isPunctuation(tokens.at(-1), ';')) tokens.pop();
  if (tokens.some((token) => isPunctuation(token, ';'))) {
    return { kind: 'unreadable', reason: 'the text holds more than one statement' };
  }

  const brackets = matchBrackets(tokens);
  if (brackets === undefined) {
    return { kind: 'unreadable', reason: "the query's brackets do not balance" };
  }

  const keywords = tokens.map((_, index) => keywordAt(tokens, index));
  const canonical = tokens.map((token, index) => keywords[index] ?? token.text);
  return { kind: 'tokens', query: { sql, tokens, canonical, keywords, ...brackets } };
}

/** Whether a token is the punctuation `text`. */
export function isPunctuation(token: Token | undefined, text: string): boolean {
  return token?.type === 'punctuation' && token.text === text;
}

/** A token's text in upper case when it is an unquoted word, else undefined. */
export function upperWord(token: Token | undefined): string | undefined {
  return token?.type === 'identifier' ? token.text.toUpperCase() : undefined;
}

/** Whether the bracket at `index` opens a subquery: `(SELECT`, `(WITH`, `(FROM` or `(VALUES`. */
export function opensSubquery(query: QueryTokens, index: number): boolean {
  if (!isPunctuation(query.tokens[index], '(')) return false;
  const keyword = query.keywords[index + 1];
  if (keyword === 'SELECT' || keyword === 'WITH' || keyword === 'FROM') return true;
  return upperWord(query.tokens[index + 1]) === 'VALUES';
}

function matchBrackets(
  tokens: readonly Token[],
): { depths: number[]; partners: number[] } | undefined {
  const depths: number[] = [];
  const partners = tokens.map(() => -1);
  const open: number[] = [];

  for (const [index, token] of tokens.entries()) {
    const isBracket = token.type === 'punctuation';
    const opening = isBracket ? CLOSING_TO_OPENING.get(token.text) : undefined;
    if (opening !== undefined) {
      const opener = open.pop();
      if (opener === undefined || tokens[opener]?.text !== opening) return undefined;
      partners[opener] = index;
    }
    depths.push(open.length);
    if (isBracket && OPENING.has(token.text)) open.push(index);
  }
  return open.length === 0 ? { depths, partners } : undefined;
}
