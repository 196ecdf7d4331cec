/**
 * Splits the part of a model file after its header into statements. It splits exactly as
 * `splitStatements` in sql/lexer.ts does (at semicolons outside strings, identifiers and comments,
 * dropping statements that hold only white space and comments), but works on the tokens the file
 * was already lexed into, so that loading a project lexes each model file once; the canonical
 * form of each statement (for its fingerprint) is recorded from the same tokens.
 */

import type { SqlSource } from '../core/model.js';
import { rememberCanonical } from '../sql/canonical-sql.js';
import type { Token } from '../sql/lexer.js';
import type { SourceLocator } from './source-locator.js';

/** A statement of a model file; `isQuery` tells whether it is a query rather than a command. */
export type ModelStatement = SqlSource & { readonly isQuery: boolean };

const QUERY_STARTS = new Set(['SELECT', 'WITH', 'FROM', 'VALUES', 'TABLE', '(']);

/**
 * The statements of `text` that start at or after `fromOffset`, which must be a token boundary.
 * Each keeps its trimmed SQL and the location of its first character.
 */
export function splitModelStatements(
  text: string,
  tokens: readonly Token[],
  fromOffset: number,
  locate: SourceLocator,
): ModelStatement[] {
  const statements: ModelStatement[] = [];
  let significant: Token[] = [];
  let start = fromOffset;
  const finish = (end: number) => {
    const first = significant[0];
    if (first === undefined) return;
    const statement = toStatement(text, start, end, first, locate);
    rememberCanonical(statement.sql, significant);
    statements.push(statement);
  };

  for (const token of tokens) {
    if (token.start < fromOffset) continue;
    if (token.type === 'punctuation' && token.text === ';') {
      finish(token.start);
      significant = [];
      start = token.end;
    } else if (token.type !== 'whitespace' && token.type !== 'comment') {
      significant.push(token);
    }
  }
  finish(text.length);
  return statements;
}

function toStatement(
  text: string,
  start: number,
  end: number,
  first: Token,
  locate: SourceLocator,
): ModelStatement {
  const raw = text.slice(start, end);
  const sql = raw.trim();
  const location = locate(start + raw.length - raw.trimStart().length);
  return { sql, ...location, isQuery: isQueryStart(first) };
}

/**
 * A query starts with SELECT, WITH, FROM, VALUES, TABLE or `(`; a macro call such as @DEF never is
 * one.
 */
function isQueryStart(token: Token): boolean {
  return token.type !== 'macro' && QUERY_STARTS.has(token.text.toUpperCase());
}
