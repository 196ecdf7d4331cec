import type { ModelKind } from '../../core/model.js';
import { createTableIfMissing, describeTarget } from './target-table.js';
import { timeRangeBounds } from './time-range-bounds.js';
import { columnList, parenthesisedQuery, run, type WriteContext } from './write-context.js';

type TimeRangeKind = Extract<ModelKind, { name: 'INCREMENTAL_BY_TIME_RANGE' }>;

/**
 * INCREMENTAL_BY_TIME_RANGE: replaces the rows of the interval `[start, end)`. The table's rows
 * whose time column falls in the interval are deleted and the query's rows in the interval are
 * inserted; the query's rows outside it are left out, so running an interval again replaces
 * exactly its own rows and never duplicates one.
 */
export async function writeTimeRange(context: WriteContext, kind: TimeRangeKind): Promise<number> {
  await createTableIfMissing(context, parenthesisedQuery(context));
  const described = await describeTarget(context);
  const columns = described.map((column) => column.name);
  const timeType = described.find((column) => sameName(column.name, kind.timeColumn))?.type;
  const { interval, model } = context.request;
  const bounds = timeRangeBounds(model.name, kind, interval, timeType);
  const column = context.adapter.quoteIdentifier(kind.timeColumn);
  const inInterval = (qualifier: string) =>
    `${qualifier}${column} >= ${bounds.startSql} AND ${qualifier}${column} < ${bounds.endSql}`;

  await run(context, `DELETE FROM ${context.table} WHERE ${inInterval('')}`, bounds.params);
  return run(
    context,
    `INSERT INTO ${context.table} (${columnList(context, columns)}) ` +
      `SELECT ${columnList(context, columns, 'sluice_rows')} ` +
      `FROM ${parenthesisedQuery(context)} AS sluice_rows WHERE ${inInterval('sluice_rows.')}`,
    bounds.params,
  );
}

/** DuckDB keeps the case of unquoted names it was given but matches them ignoring case. */
function sameName(columnName: string, timeColumn: string): boolean {
  return columnName.toLowerCase() === timeColumn.toLowerCase();
}
