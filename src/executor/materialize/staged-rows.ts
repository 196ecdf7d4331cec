import { SluiceError } from '../../core/errors.js';
import { columnList, parenthesisedQuery, run, select, type WriteContext } from './write-context.js';

/**
 * The temporary table that holds the query's rows while a unique-key or SCD type 2 model merges
 * them. It lives in the transaction's session only; it is dropped before commit, and a rollback
 * undoes its creation, so one fixed name never collides.
 */
export const STAGED_ROWS = 'sluice_staged_rows';

/** Runs the query once into the staging table, then checks that its key identifies each row. */
export async function stageRows(context: WriteContext, key: readonly string[]): Promise<void> {
  await run(
    context,
    `CREATE TEMPORARY TABLE ${STAGED_ROWS} AS ` +
      `SELECT * FROM ${parenthesisedQuery(context)} AS sluice_rows`,
  );
  // PostgreSQL's autovacuum never analyses temporary tables; without statistics the planner
  // guesses their size when it joins them with the target.
  if (context.adapter.type === 'postgres') await run(context, `ANALYZE ${STAGED_ROWS}`);
  await checkKey(context, key);
}

/** Drops the staging table before the transaction commits. */
export async function dropStagedRows(context: WriteContext): Promise<void> {
  await run(context, `DROP TABLE ${STAGED_ROWS}`);
}

/**
 * Rejects new rows that repeat a key or whose key has a NULL part. A NULL key never equals
 * another, so such a row could never be replaced and would be inserted again on every run.
 * Messages give counts only, never the rows' values.
 */
async function checkKey(context: WriteContext, key: readonly string[]): Promise<void> {
  const { repeatedKeys, nullKeys } = await countKeyProblems(context, key);
  const model = context.request.model.name;
  const described = `unique_key (${key.join(', ')})`;
  if (repeatedKeys > 0) {
    throw new SluiceError(
      'unique_key_violation',
      `Model '${model}' returned ${plural(repeatedKeys, 'value')} of its ${described} on more ` +
        'than one row; make the query return one row per key, or change unique_key',
    );
  }
  if (nullKeys > 0) {
    throw new SluiceError(
      'unique_key_violation',
      `Model '${model}' returned ${plural(nullKeys, 'row')} whose ${described} is NULL; ` +
        'filter those rows out or give them a key in the query, or change unique_key',
    );
  }
}

/** How many key values the staged rows repeat, and how many staged rows have a NULL key part. */
async function countKeyProblems(
  context: WriteContext,
  key: readonly string[],
): Promise<{ repeatedKeys: number; nullKeys: number }> {
  const anyNull = key.map((column) => `${context.adapter.quoteIdentifier(column)} IS NULL`);
  const result = await select(
    context,
    'SELECT ' +
      `(SELECT CAST(COUNT(*) AS INTEGER) FROM (SELECT 1 AS repeated FROM ${STAGED_ROWS} ` +
      `GROUP BY ${columnList(context, key)} HAVING COUNT(*) > 1) AS repeats) AS repeated_keys, ` +
      `(SELECT CAST(COUNT(*) AS INTEGER) FROM ${STAGED_ROWS} WHERE ${anyNull.join(' OR ')}) ` +
      'AS null_keys',
  );
  const counts = result.rows[0] ?? {};
  return {
    repeatedKeys: Number(counts.repeated_keys ?? 0),
    nullKeys: Number(counts.null_keys ?? 0),
  };
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
