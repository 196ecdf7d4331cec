/**
 * How a reference to an EMBEDDED model becomes a subquery: `FROM shop.x WHERE ...` becomes
 * `FROM (<x's query>) AS "x" WHERE ...`, and `FROM shop.x AS y` becomes `FROM (<x's query>) AS y`.
 */

import type { Dialect } from '../core/model.js';
import { quoteIdentifier } from '../sql/dialect.js';
import { significantTokens, type Token, tokenize } from '../sql/lexer.js';
import type { TableReference } from '../sql/table-reference.js';

/**
 * Words that may follow a table name but are not an alias for it. An unquoted word after the name
 * that is not one of these is taken as an alias (`FROM shop.x y`).
 */
const NOT_AN_ALIAS = new Set(
  [
    'WHERE JOIN ON GROUP ORDER LIMIT UNION LEFT RIGHT INNER FULL OUTER CROSS NATURAL USING HAVING',
    'WINDOW QUALIFY EXCEPT INTERSECT MINUS OFFSET FETCH RETURNING SET VALUES LATERAL TABLESAMPLE',
    'ANTI SEMI ASOF POSITIONAL PIVOT UNPIVOT SELECT FROM INTO WITH FOR AND OR NOT IN IS WHEN THEN',
    'ELSE END DO DEFAULT CONFLICT',
  ]
    .join(' ')
    .split(' '),
);

/** Finds, for a reference's end offset, whether an alias follows it in the SQL text. */
export type AliasFinder = (referenceEnd: number) => boolean;

/** Builds an AliasFinder over `sql`, lexing it once. */
export function aliasFinder(sql: string): AliasFinder {
  let tokens: Token[] | undefined;
  return (referenceEnd) => {
    tokens ??= significantTokens(sql);
    const next = tokens.find((token) => token.start >= referenceEnd);
    return next !== undefined && isAliasStart(next);
  };
}

function isAliasStart(token: Token): boolean {
  if (token.type === 'quoted_identifier') return true;
  if (token.type !== 'identifier') return false;
  const word = token.text.toUpperCase();
  return word === 'AS' || !NOT_AN_ALIAS.has(word);
}

/**
 * The subquery text that replaces a reference to an embedded model. Without an alias after the
 * reference, the name's last part becomes the alias, so `x.id` still resolves.
 */
export function embeddedSubquery(
  query: string,
  reference: TableReference,
  hasAlias: boolean,
  dialect: Dialect,
): string {
  const body = query.trim();
  const last = tokenize(body).at(-1);
  // A trailing `--` comment would swallow the closing parenthesis on the same line.
  const closing = last?.type === 'comment' && last.text.startsWith('--') ? '\n)' : ')';
  const subquery = `(${body}${closing}`;
  if (hasAlias) return subquery;
  const alias = reference.parts.at(-1) ?? reference.name;
  return `${subquery} AS ${quoteIdentifier(dialect, alias)}`;
}
