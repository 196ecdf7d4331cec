/**
 * The canonical form of a model's SQL, the text its version hashes (DESIGN.md section 4). It must
 * ignore formatting and comments and nothing else: two texts share a canonical form only when they
 * mean the same to the engine, so a version is never reused for SQL that computes other data.
 *
 * The form is the lexer's significant tokens (no white space, no comments) joined by one space,
 * each exactly as written, except that keywords are upper-cased where they are keywords (see
 * canonical-keywords.ts for which words and where). What it deliberately keeps:
 *
 * - The case of names. DuckDB keeps a name's case as written in result column names, so
 *   `SELECT Total` and `SELECT total` build different tables.
 * - Constants as written, `1.0` and `1.00` included (DuckDB gives them different types).
 * - Macros as written (`@start_ds`, `@VAR('x')`, `@DEF(...)`): this is the canonical form of the
 *   source, not of a rendering, so a change in the macro renderer can never change a version.
 *
 * Changing any of this changes versions and needs a new FINGERPRINT_FORMAT.
 */

import { keywordAt } from './canonical-keywords.js';
import { significantTokens, type Token } from './lexer.js';

/**
 * Canonical forms already computed, by statement text. Loading a project lexes every model file
 * once and records its statements' canonical forms from those tokens, so fingerprinting does not
 * lex them again. Bounded: past the limit it starts over.
 */
const remembered = new Map<string, string>();
const REMEMBERED_LIMIT = 50_000;

/** The canonical form of SQL text: formatting, comments and keyword case removed, nothing else. */
export function canonicalSql(text: string): string {
  const known = remembered.get(text);
  if (known !== undefined) return known;
  return canonicalOfTokens(significantTokens(text));
}

/** The canonical form of a statement's significant tokens (no white space or comments). */
export function canonicalOfTokens(tokens: readonly Token[]): string {
  return tokens.map((token, index) => keywordAt(tokens, index) ?? token.text).join(' ');
}

/**
 * Records the canonical form of a statement whose tokens the caller already has; `text` must be
 * exactly what canonicalSql would be given (the trimmed statement).
 */
export function rememberCanonical(text: string, tokens: readonly Token[]): void {
  if (remembered.size >= REMEMBERED_LIMIT) remembered.clear();
  remembered.set(text, canonicalOfTokens(tokens));
}
