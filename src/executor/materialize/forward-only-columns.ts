import { SluiceError } from '../../core/errors.js';
import type { ColumnDefinition } from '../../core/model.js';
import type { ColumnInfo, EngineAdapter } from '../../engines/engine-adapter.js';
import { describeTarget } from './target-table.js';
import { parenthesisedQuery, run, select, type WriteContext } from './write-context.js';

/**
 * A forward-only version keeps the table its model already has instead of getting a new one.
 * The table must then take the version's rows: a column the query gained is added with
 * `ALTER TABLE ... ADD COLUMN` (existing rows get NULL), while a column the query lost or gives
 * another type would leave the table unable to hold them and is refused. Both shapes are read the
 * same way, from the columns of a `LIMIT 0` result on the transaction's session, so that a type
 * is named alike on both sides.
 */
export async function addForwardOnlyColumns(
  context: WriteContext,
  extraColumns: readonly ColumnDefinition[],
): Promise<number> {
  const existing = await describeTarget(context);
  const wanted = (await select(context, shapeSql(context, extraColumns))).columns;
  const find = (columns: readonly ColumnInfo[], name: string) =>
    columns.find((column) => isSameName(context.adapter, column.name, name));

  for (const column of existing) checkKept(context, column, find(wanted, column.name));

  const added = wanted.filter((column) => find(existing, column.name) === undefined);
  for (const column of added) {
    const name = context.adapter.quoteIdentifier(column.name);
    await run(context, `ALTER TABLE ${context.table} ADD COLUMN ${name} ${column.type}`);
  }
  return added.length;
}

/**
 * A query with no rows whose columns are the ones the table should have: the declared columns
 * when the model declares any, else the query's, plus the kind's extra columns. This mirrors how
 * createTableIfMissing shapes a new table.
 */
function shapeSql(context: WriteContext, extraColumns: readonly ColumnDefinition[]): string {
  const declared = context.request.model.columns;
  const quote = (name: string) => context.adapter.quoteIdentifier(name);
  const cast = (column: ColumnDefinition) =>
    `CAST(NULL AS ${column.type}) AS ${quote(column.name)}`;
  const extras = extraColumns.filter((extra) => !declared.some((c) => c.name === extra.name));
  if (declared.length > 0) return `SELECT ${[...declared, ...extras].map(cast).join(', ')} LIMIT 0`;

  const selected = ['sluice_shape.*', ...extras.map(cast)].join(', ');
  return `SELECT ${selected} FROM ${parenthesisedQuery(context)} AS sluice_shape LIMIT 0`;
}

/** Refuses a column of the table that the new version drops or gives another type. */
function checkKept(context: WriteContext, column: ColumnInfo, wanted: ColumnInfo | undefined) {
  if (wanted !== undefined && wanted.type === column.type) return;

  const model = context.request.model.name;
  const change =
    wanted === undefined
      ? `no longer returns column '${column.name}' of its table ${context.table}`
      : `returns column '${column.name}' as ${wanted.type}, where its table ${context.table} ` +
        `has ${column.type}`;
  throw new SluiceError(
    'model_query_invalid',
    `Model '${model}' is planned as forward-only, but its query ${change}; a forward-only ` +
      'change can only add columns: keep the column as it was in the query, or plan again ' +
      'without --forward-only to build a new version',
  );
}

/** DuckDB matches column names without regard to case; PostgreSQL keeps them exact. */
function isSameName(adapter: EngineAdapter, left: string, right: string): boolean {
  return adapter.type === 'duckdb' ? left.toLowerCase() === right.toLowerCase() : left === right;
}
