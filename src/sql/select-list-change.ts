/**
 * Classifies a change to a model's query for a plan (DESIGN.md section 4): a change that only adds
 * columns to the select list is non-breaking, since downstream models keep computing the same
 * data; anything else is breaking. It reads the lexer's tokens rather than parsing, so it works
 * alike for every dialect and keeps macros as written, and it errs towards breaking: a change is
 * called non-breaking only when the query's rows, and the meaning of every other name in it, are
 * plainly the same. Pre- and post-statements are compared by the caller.
 */

import { canonicalSql } from './canonical-sql.js';
import { type QueryClauses, readQueryClauses } from './query-clauses.js';
import { isPunctuation, type QueryTokens, readQueryTokens } from './query-tokens.js';
import { rowChangingCalls } from './row-changing-calls.js';
import { readSelectList, type SelectItem, type SelectList } from './select-list.js';

/** How a query changed: not at all, only by added columns (named), or in a breaking way. */
export type QueryChange =
  | { readonly kind: 'unchanged' }
  | { readonly kind: 'adds_columns'; readonly addedColumns: readonly string[] }
  | { readonly kind: 'breaking'; readonly reason: string };

/** A query whose select list was found, with the facts about its clauses. */
type ReadQuery = {
  readonly tokens: QueryTokens;
  readonly list: SelectList;
  readonly clauses: QueryClauses;
};

type Outcome<T> = { readonly kind: 'read'; readonly value: T } | BreakingChange;
type BreakingChange = { readonly kind: 'breaking'; readonly reason: string };

/**
 * Compares two versions of a query. Identical canonical tokens are 'unchanged'; a change whose
 * only difference is items added to the outermost select list, each named, is 'adds_columns'
 * (with no names when only the list's punctuation changed, such as a trailing comma); anything
 * else is 'breaking' with a short reason.
 */
export function classifyQueryChange(oldSql: string, newSql: string): QueryChange {
  const oldQuery = readQuery(oldSql);
  const newQuery = readQuery(newSql);
  if (isUnchanged(oldSql, newSql, oldQuery, newQuery)) return { kind: 'unchanged' };
  if (newQuery.kind === 'breaking') return newQuery;
  if (oldQuery.kind === 'breaking') {
    return breaking(`the previous version cannot be compared: ${oldQuery.reason}`);
  }

  const before = oldQuery.value;
  const after = newQuery.value;
  if (!isSameOutsideList(before, after)) {
    return breaking('the query changed outside its select list');
  }
  const shapeProblem = findShapeProblem(after);
  if (shapeProblem !== undefined) return breaking(shapeProblem);

  const matching = matchItems(before.list.items, after.list.items);
  if (matching.kind === 'breaking') return matching;
  const addedProblem = findAddedProblem(before, after, matching.value);
  if (addedProblem !== undefined) return breaking(addedProblem);

  const added = matching.value.added.map((index) => after.list.items[index]?.name ?? '');
  return { kind: 'adds_columns', addedColumns: added };
}

function breaking(reason: string): BreakingChange {
  return { kind: 'breaking', reason };
}

/** Reads a query's tokens, select list and clauses, or says why they cannot be read. */
function readQuery(sql: string): Outcome<ReadQuery> {
  const reading = readQueryTokens(sql);
  if (reading.kind === 'unreadable') return breaking(reading.reason);
  const tokens = reading.query;

  const listReading = readSelectList(tokens);
  if (listReading.kind === 'unreadable') return breaking(listReading.reason);
  const list = listReading.list;
  return { kind: 'read', value: { tokens, list, clauses: readQueryClauses(tokens, list.end) } };
}

function isUnchanged(
  oldSql: string,
  newSql: string,
  oldQuery: Outcome<ReadQuery>,
  newQuery: Outcome<ReadQuery>,
): boolean {
  if (oldQuery.kind === 'read' && newQuery.kind === 'read') {
    return sameStrings(oldQuery.value.tokens.canonical, newQuery.value.tokens.canonical);
  }
  return canonicalSql(oldSql) === canonicalSql(newSql);
}

function sameStrings(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((text, index) => text === b[index]);
}

/** Whether the canonical tokens before and after the select list are the same. */
function isSameOutsideList(before: ReadQuery, after: ReadQuery): boolean {
  const outside = ({ tokens, list }: ReadQuery) => [
    ...tokens.canonical.slice(0, list.start),
    '<select list>',
    ...tokens.canonical.slice(list.end),
  ];
  return sameStrings(outside(before), outside(after));
}

/** Why adding a column to this query may change its rows, or undefined. */
function findShapeProblem(query: ReadQuery): string | undefined {
  const { clauses, list } = query;
  if (clauses.setOperation !== undefined) {
    return `the query is a set operation (${clauses.setOperation})`;
  }
  if (list.isDistinct) return 'the query uses SELECT DISTINCT, so an added column changes its rows';
  if (clauses.byAllClause !== undefined) {
    return `the query uses ${clauses.byAllClause}, whose meaning follows the select list`;
  }
  const expanding = list.items.find((item) => item.expandsColumns);
  if (expanding !== undefined) return `the select list uses ${label(expanding)}`;
  return undefined;
}

/** Where each old item sits in the new list, and the new items that were added. */
type Matching = { readonly matched: readonly number[]; readonly added: readonly number[] };

/**
 * Finds every old item in the new list, in the same order; greedy matching finds an order if any.
 */
function matchItems(
  oldItems: readonly SelectItem[],
  newItems: readonly SelectItem[],
): Outcome<Matching> {
  const matched: number[] = [];
  let from = 0;
  for (const item of oldItems) {
    const found = newItems.findIndex((other, index) => index >= from && isSame(item, other));
    if (found === -1) return breaking(whyMissing(item, newItems, from));
    matched.push(found);
    from = found + 1;
  }
  const added = newItems.map((_, index) => index).filter((index) => !matched.includes(index));
  return { kind: 'read', value: { matched, added } };
}

function isSame(a: SelectItem, b: SelectItem): boolean {
  return a.canonical === b.canonical;
}

function whyMissing(item: SelectItem, newItems: readonly SelectItem[], from: number): string {
  if (newItems.slice(0, from).some((other) => isSame(item, other))) {
    return `the select list was reordered: column ${label(item)} moved`;
  }
  const isRenamed = item.name !== undefined && newItems.some((other) => other.name === item.name);
  return isRenamed ? `column ${label(item)} changed` : `column ${label(item)} was removed`;
}

/** Why one of the added items makes the change breaking, or undefined when none does. */
function findAddedProblem(
  before: ReadQuery,
  after: ReadQuery,
  matching: Matching,
): string | undefined {
  const lastMatched = Math.max(-1, ...matching.matched);
  const wasAggregated = before.list.items.some((item) => hasAggregate(before.tokens, item));

  for (const index of matching.added) {
    const item = after.list.items[index] as SelectItem;
    const problem = nameProblem(after, item) ?? rowProblem(after, item, wasAggregated);
    if (problem !== undefined) return problem;
    if (after.clauses.hasPositionalReference && index < lastMatched) {
      return (
        'the query refers to select-list items by position, ' +
        `and column ${label(item)} was added before one of them`
      );
    }
  }
  return undefined;
}

/** An added item without a name of its own, with a name another item has, or one used elsewhere. */
function nameProblem(query: ReadQuery, item: SelectItem): string | undefined {
  const name = item.name;
  if (name === undefined) {
    return `the added expression ${label(item)} has no name; give it one with AS`;
  }
  const isTwice = query.list.items.some(
    (other) => other !== item && other.name?.toLowerCase() === name.toLowerCase(),
  );
  if (isTwice) return `column '${name}' would appear twice`;
  if (item.isAliased && isNameUsedOutside(query.tokens, item)) {
    return (
      `the added column '${name}' has a name the query already uses, ` +
      'which may change what that name refers to'
    );
  }
  return undefined;
}

/**
 * Whether an alias appears as a name elsewhere in the query, where it may come to mean the new
 * column (ORDER BY, GROUP BY, DuckDB's lateral aliases). `x AS x` and `t.x AS x` are exempt.
 */
function isNameUsedOutside(query: QueryTokens, item: SelectItem): boolean {
  const name = item.name?.toLowerCase();
  if (item.column?.toLowerCase() === name) return false;

  return query.tokens.some((token, index) => {
    if (index >= item.start && index < item.end) return false;
    const isName =
      token.type === 'quoted_identifier' ||
      (token.type === 'identifier' && query.keywords[index] === undefined);
    const isQualified = isPunctuation(query.tokens[index - 1], '.');
    const isCall = isPunctuation(query.tokens[index + 1], '(');
    const spelled = token.type === 'quoted_identifier' ? token.text.slice(1, -1) : token.text;
    return isName && !isQualified && !isCall && spelled.toLowerCase() === name;
  });
}

/** An added aggregate that folds an ungrouped query, or a set-returning call. */
function rowProblem(
  query: ReadQuery,
  item: SelectItem,
  wasAggregated: boolean,
): string | undefined {
  const calls = rowChangingCalls(query.tokens, item.start, item.end);
  const setReturning = calls.find((call) => call.kind === 'set_returning');
  if (setReturning !== undefined) {
    return (
      `the added column ${label(item)} calls ${setReturning.name}, ` +
      'which changes the number of rows'
    );
  }
  const aggregate = calls.find((call) => call.kind === 'aggregate');
  if (aggregate !== undefined && !query.clauses.isGrouped && !wasAggregated) {
    return (
      `the added column ${label(item)} calls the aggregate ${aggregate.name} ` +
      'in a query that did not aggregate, which changes its rows'
    );
  }
  return undefined;
}

function hasAggregate(tokens: QueryTokens, item: SelectItem): boolean {
  return rowChangingCalls(tokens, item.start, item.end).some((call) => call.kind === 'aggregate');
}

const LABEL_LENGTH = 60;

/** An item quoted for a reason: its name, or its text shortened. */
function label(item: SelectItem): string {
  if (item.name !== undefined) return `'${item.name}'`;
  const text =
    item.text.length > LABEL_LENGTH ? `${item.text.slice(0, LABEL_LENGTH - 3)}...` : item.text;
  return `'${text}'`;
}
