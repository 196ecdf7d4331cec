/**
 * Helpers over the lexer's tokens for the macro renderer: ranges of tokens, bracket matching and
 * splitting a call's arguments at top-level commas. Strings, quoted identifiers and comments are
 * single tokens, so commas and brackets inside them never count.
 */

import { SluiceError } from '../../core/errors.js';
import type { Token } from '../lexer.js';

/** A run of tokens `[from, to)` of one lexed text. */
export type TokenRange = { readonly from: number; readonly to: number };

const OPENERS = new Set(['(', '[', '{']);
const CLOSERS = new Set([')', ']', '}']);

/** The token at `index`; a missing one is a bug in the renderer, not in the user's SQL. */
export function tokenAt(tokens: readonly Token[], index: number): Token {
  const token = tokens[index];
  if (token === undefined) {
    throw new SluiceError('internal', `Macro renderer read past the end of its tokens (${index})`);
  }
  return token;
}

/** Whether a token is white space or a comment, which never change what the SQL means. */
export function isTrivia(token: Token): boolean {
  return token.type === 'whitespace' || token.type === 'comment';
}

/** Whether a token is the punctuation `text`, such as `(` or `,`. */
export function isPunctuation(token: Token | undefined, text: string): boolean {
  return token !== undefined && token.type === 'punctuation' && token.text === text;
}

/** The index of the first token at or after `index` that is not trivia, or `to` when none is. */
export function skipTrivia(tokens: readonly Token[], index: number, to: number): number {
  let position = index;
  while (position < to && isTrivia(tokenAt(tokens, position))) position++;
  return position;
}

/** The tokens of a range that are neither white space nor comments. */
export function significantIn(tokens: readonly Token[], range: TokenRange): Token[] {
  return tokens.slice(range.from, range.to).filter((token) => !isTrivia(token));
}

/** The index of the bracket closing the one at `open`, or -1 when it is not closed before `to`. */
export function matchingClose(tokens: readonly Token[], open: number, to: number): number {
  let depth = 0;
  for (let index = open; index < to; index++) {
    const token = tokenAt(tokens, index);
    if (token.type !== 'punctuation') continue;
    if (OPENERS.has(token.text)) depth++;
    if (CLOSERS.has(token.text)) depth--;
    if (depth === 0) return index;
  }
  return -1;
}

/** Splits a range at commas outside brackets; each part is trimmed of white space. */
export function splitTopLevel(tokens: readonly Token[], range: TokenRange): TokenRange[] {
  const parts: TokenRange[] = [];
  let depth = 0;
  let start = range.from;
  for (let index = range.from; index < range.to; index++) {
    const token = tokenAt(tokens, index);
    if (token.type !== 'punctuation') continue;
    if (OPENERS.has(token.text)) depth++;
    if (CLOSERS.has(token.text)) depth--;
    if (depth === 0 && token.text === ',') {
      parts.push(trimRange(tokens, { from: start, to: index }));
      start = index + 1;
    }
  }
  parts.push(trimRange(tokens, { from: start, to: range.to }));
  return parts;
}

/** The arguments of a call between its parentheses; none when there is nothing but trivia. */
export function splitArguments(tokens: readonly Token[], inner: TokenRange): TokenRange[] {
  if (skipTrivia(tokens, inner.from, inner.to) === inner.to) return [];
  return splitTopLevel(tokens, inner);
}

/** The range without white space at either end (comments stay: they are part of the SQL). */
export function trimRange(tokens: readonly Token[], range: TokenRange): TokenRange {
  let from = range.from;
  let to = range.to;
  while (from < to && tokenAt(tokens, from).type === 'whitespace') from++;
  while (to > from && tokenAt(tokens, to - 1).type === 'whitespace') to--;
  return { from, to };
}

/** The source text a range covers. */
export function rangeText(text: string, tokens: readonly Token[], range: TokenRange): string {
  if (range.from >= range.to) return '';
  return text.slice(tokenAt(tokens, range.from).start, tokenAt(tokens, range.to - 1).end);
}
