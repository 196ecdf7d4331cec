/**
 * Finds calls in a select item that change how many rows the query returns when the item is
 * added: an aggregate outside a window (it folds an ungrouped query into one row) and a
 * set-returning function (it turns one row into several). Subqueries are passed over, since
 * what they call does not change the outer query's rows.
 *
 * Functions are known by name only: a user-defined aggregate or set-returning function, or a
 * macro that expands to one, is not recognised. Recognising them needs the engine's catalogue.
 */

import { isPunctuation, opensSubquery, type QueryTokens, upperWord } from './query-tokens.js';

/** A call that changes the number of rows, by the function's name as written. */
export type RowChangingCall = {
  readonly kind: 'aggregate' | 'set_returning';
  readonly name: string;
};

/** Built-in aggregates of PostgreSQL and DuckDB, in lower case. */
const AGGREGATES = new Set(
  [
    'any_value approx_count_distinct approx_quantile arbitrary arg_max arg_min argmax argmin',
    'array_agg avg bit_and bit_or bit_xor bitstring_agg bool_and bool_or corr count count_if',
    'countif covar_pop covar_samp entropy every favg first fsum geomean group_concat histogram',
    'json_agg json_object_agg jsonb_agg jsonb_object_agg kurtosis last list listagg mad max',
    'max_by median min min_by mode percentile_cont percentile_disc product quantile',
    'quantile_cont quantile_disc range_agg regr_avgx regr_avgy regr_count regr_intercept',
    'regr_r2 regr_slope regr_sxx regr_sxy regr_syy skewness stddev stddev_pop stddev_samp',
    'string_agg sum var_pop var_samp variance xmlagg',
  ]
    .join(' ')
    .split(' '),
);

/** Built-in functions that return rows rather than a value when called in a select list. */
const SET_RETURNING = new Set(
  [
    'generate_series generate_subscripts json_array_elements json_array_elements_text',
    'json_each json_each_text json_object_keys json_populate_recordset json_to_recordset',
    'jsonb_array_elements jsonb_array_elements_text jsonb_each jsonb_each_text',
    'jsonb_object_keys jsonb_path_query jsonb_populate_recordset jsonb_to_recordset',
    'regexp_matches regexp_split_to_table string_to_table unnest',
  ]
    .join(' ')
    .split(' '),
);

/** The row-changing calls among tokens [start, end) of a query. */
export function rowChangingCalls(
  query: QueryTokens,
  start: number,
  end: number,
): RowChangingCall[] {
  const calls: RowChangingCall[] = [];
  for (let index = start; index < end; index++) {
    if (opensSubquery(query, index)) {
      index = query.partners[index] ?? index;
      continue;
    }

    const token = query.tokens[index];
    if (token?.type !== 'identifier' || !isPunctuation(query.tokens[index + 1], '(')) continue;
    const lowerName = token.text.toLowerCase();
    if (SET_RETURNING.has(lowerName)) calls.push({ kind: 'set_returning', name: token.text });
    if (AGGREGATES.has(lowerName) && !isWindowCall(query, index + 1)) {
      calls.push({ kind: 'aggregate', name: token.text });
    }
  }
  return calls;
}

/**
 * Whether the call whose arguments open at `open` is followed by OVER, past FILTER/WITHIN GROUP.
 */
function isWindowCall(query: QueryTokens, open: number): boolean {
  let index = (query.partners[open] ?? open) + 1;
  for (;;) {
    const word = upperWord(query.tokens[index]);
    if (word === 'FILTER' && isPunctuation(query.tokens[index + 1], '(')) {
      index = (query.partners[index + 1] ?? index) + 1;
    } else if (word === 'WITHIN' && isPunctuation(query.tokens[index + 2], '(')) {
      index = (query.partners[index + 2] ?? index) + 1;
    } else {
      return word === 'OVER';
    }
  }
}
