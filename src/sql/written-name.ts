/**
 * Reads the table name written at a position the parser reported: `a . "b" . c`, with white space
 * and comments allowed around the dots. Only a short stretch after the start is lexed, and a longer
 * one only when the name runs past it, so finding a name costs the same in a long statement.
 */

import { type Token, tokenize } from './lexer.js';

/** One part of a name as written: whether it was quoted, and the string index just past it. */
export type WrittenPart = { readonly isQuoted: boolean; readonly end: number };

/** What is written at a reference's start: a dotted name, or a string literal. */
export type WrittenName =
  | { readonly kind: 'name'; readonly parts: readonly WrittenPart[] }
  | { readonly kind: 'string' };

const FIRST_WINDOW_LENGTH = 64;

/** A part while scanning: `next` is the token after it, `lookedAt` the furthest token examined. */
type ScannedPart = WrittenPart & { readonly next: number; readonly lookedAt: number };

/** The name starting at string index `start` of `sql`; no parts when no name starts there. */
export function readWrittenName(sql: string, start: number): WrittenName {
  for (let length = FIRST_WINDOW_LENGTH; ; length *= 4) {
    const windowEnd = Math.min(sql.length, start + length);
    const tokens = tokenize(sql.slice(start, windowEnd));
    if (tokens[0]?.type === 'string') return { kind: 'string' };

    const scan = scanParts(tokens);
    if (scan.lookedAt < tokens.length || windowEnd === sql.length) {
      const parts = scan.parts.map((part) => ({ isQuoted: part.isQuoted, end: start + part.end }));
      return { kind: 'name', parts };
    }
  }
}

/** Scans parts and dots; `lookedAt` past the last token means the name may continue. */
function scanParts(tokens: readonly Token[]): { parts: ScannedPart[]; lookedAt: number } {
  const parts: ScannedPart[] = [];
  let position = 0;
  for (;;) {
    const part = readPart(tokens, position);
    if (part === undefined) return { parts, lookedAt: position };
    parts.push(part);
    const dot = nextSignificant(tokens, part.next);
    if (tokens[dot]?.text !== '.') return { parts, lookedAt: Math.max(dot, part.lookedAt) };
    position = nextSignificant(tokens, dot + 1);
  }
}

/** A plain or quoted identifier, or PostgreSQL's `U&"d\0061ta"` with an optional `UESCAPE '!'`. */
function readPart(tokens: readonly Token[], position: number): ScannedPart | undefined {
  const token = tokens[position];
  if (token?.type === 'quoted_identifier') {
    return { isQuoted: true, end: token.end, next: position + 1, lookedAt: position };
  }
  if (token?.type !== 'identifier') return undefined;
  const mayBeEscaped =
    (token.text === 'U' || token.text === 'u') && tokens[position + 1]?.text === '&';
  if (mayBeEscaped && tokens[position + 2]?.type === 'quoted_identifier') {
    return readUnicodeEscaped(tokens, position + 2);
  }
  const lookedAt = mayBeEscaped ? position + 2 : position;
  return { isQuoted: false, end: token.end, next: position + 1, lookedAt };
}

function readUnicodeEscaped(tokens: readonly Token[], quotedAt: number): ScannedPart {
  const keyword = nextSignificant(tokens, quotedAt + 1);
  const escapeAt = nextSignificant(tokens, keyword + 1);
  const escapeToken = tokens[escapeAt];
  if (tokens[keyword]?.text.toUpperCase() === 'UESCAPE' && escapeToken?.type === 'string') {
    return { isQuoted: true, end: escapeToken.end, next: escapeAt + 1, lookedAt: escapeAt };
  }
  const end = tokens[quotedAt]?.end ?? 0;
  return { isQuoted: true, end, next: quotedAt + 1, lookedAt: escapeAt };
}

function nextSignificant(tokens: readonly Token[], index: number): number {
  let position = index;
  while (tokens[position]?.type === 'whitespace' || tokens[position]?.type === 'comment') {
    position++;
  }
  return position;
}
