/**
 * What the clauses after a query's select list do that decides whether adding a column to the
 * list can change the query's rows: a set operation, grouping, `BY ALL`, and references to
 * select-list items by position.
 */

import { isPunctuation, type QueryTokens, upperWord } from './query-tokens.js';

/** The facts about a query's clauses that adding a column depends on. */
export type QueryClauses = {
  /** UNION, INTERSECT or EXCEPT when the query is a set operation. */
  readonly setOperation: string | undefined;
  /** `GROUP BY ALL` or `ORDER BY ALL`, whose meaning follows the select list. */
  readonly byAllClause: 'GROUP BY ALL' | 'ORDER BY ALL' | undefined;
  /** Whether the query groups its rows (GROUP BY or HAVING). */
  readonly isGrouped: boolean;
  /** Whether GROUP BY or ORDER BY names a select-list item by its position (`GROUP BY 1`). */
  readonly hasPositionalReference: boolean;
};

const CLAUSE_WORDS = new Set([
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
]);
const SET_OPERATIONS = new Set(['UNION', 'INTERSECT', 'EXCEPT']);

/** Reads the clauses at depth 0 from token `start` (the end of the select list) on. */
export function readQueryClauses(query: QueryTokens, start: number): QueryClauses {
  let clause: string | undefined;
  let setOperation: string | undefined;
  let byAllClause: QueryClauses['byAllClause'];
  let isGrouped = false;
  let hasPositionalReference = false;

  for (let index = start; index < query.tokens.length; index++) {
    const keyword = query.depths[index] === 0 ? query.keywords[index] : undefined;
    if (keyword !== undefined && CLAUSE_WORDS.has(keyword) && startsClause(query, index)) {
      clause = keyword;
    }
    if (keyword !== undefined && SET_OPERATIONS.has(keyword)) setOperation ??= keyword;
    if (keyword === 'HAVING' || (keyword === 'GROUP' && query.keywords[index + 1] === 'BY')) {
      isGrouped = true;
    }

    const isOrdering = clause === 'GROUP' || clause === 'ORDER';
    if (isOrdering && keyword === 'BY' && query.keywords[index + 1] === 'ALL') {
      byAllClause = clause === 'GROUP' ? 'GROUP BY ALL' : 'ORDER BY ALL';
    }
    if (isOrdering && isPosition(query, index)) hasPositionalReference = true;
  }
  return { setOperation, byAllClause, isGrouped, hasPositionalReference };
}

/**
 * GROUP and ORDER start a clause only before BY (not in `WITHIN GROUP`), FROM not after DISTINCT.
 */
function startsClause(query: QueryTokens, index: number): boolean {
  const keyword = query.keywords[index];
  if (keyword === 'GROUP' || keyword === 'ORDER') return query.keywords[index + 1] === 'BY';
  return keyword !== 'FROM' || query.keywords[index - 1] !== 'DISTINCT';
}

/**
 * Whether the token is a number standing alone as a grouping or ordering item: after BY, `,` or
 * `(`, and before the item's end. Inside the clause this also matches a function's constant
 * argument (`ROUND(x, 2)`), which errs towards treating a change as breaking.
 */
function isPosition(query: QueryTokens, index: number): boolean {
  if (query.tokens[index]?.type !== 'number') return false;

  const before = query.tokens[index - 1];
  const isItemStart =
    query.keywords[index - 1] === 'BY' || isPunctuation(before, ',') || isPunctuation(before, '(');
  const after = query.tokens[index + 1];
  const isItemEnd =
    after === undefined ||
    isPunctuation(after, ',') ||
    isPunctuation(after, ')') ||
    upperWord(after) !== undefined;
  return isItemStart && isItemEnd;
}
