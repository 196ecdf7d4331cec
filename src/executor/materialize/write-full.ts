import { createTableIfMissing, tableColumns } from './target-table.js';
import { columnList, parenthesisedQuery, run, type WriteContext } from './write-context.js';

/**
 * FULL (and materialised VIEW): replaces every row of the table with the query's rows. The table
 * is emptied with DELETE, not dropped or truncated, so that readers keep seeing the old rows until
 * the transaction commits and objects that depend on the table stay valid.
 */
export async function writeFull(context: WriteContext): Promise<number> {
  await createTableIfMissing(context, parenthesisedQuery(context));
  const columns = await tableColumns(context);

  await run(context, `DELETE FROM ${context.table}`);
  return run(
    context,
    `INSERT INTO ${context.table} (${columnList(context, columns)}) ` +
      `SELECT ${columnList(context, columns, 'sluice_rows')} ` +
      `FROM ${parenthesisedQuery(context)} AS sluice_rows`,
  );
}
