import type { ColumnDefinition } from '../../core/model.js';
import type { ColumnInfo } from '../../engines/engine-adapter.js';
import { run, select, type WriteContext } from './write-context.js';

/**
 * Creates the target table unless it exists: from the model's declared columns when it declares
 * any, else with the shape of `source` (a table name or a derived table), plus `extraColumns`.
 * An existing table is never dropped or altered: later versions and environments depend on it.
 */
export async function createTableIfMissing(
  context: WriteContext,
  source: string,
  extraColumns: readonly ColumnDefinition[] = [],
): Promise<void> {
  const declared = context.request.model.columns;
  const quote = (name: string) => context.adapter.quoteIdentifier(name);
  if (declared.length > 0) {
    const missing = extraColumns.filter((extra) => !declared.some((c) => c.name === extra.name));
    const definitions = [...declared, ...missing].map((c) => `${quote(c.name)} ${c.type}`);
    await run(context, `CREATE TABLE IF NOT EXISTS ${context.table} (${definitions.join(', ')})`);
    return;
  }
  const extras = extraColumns.map((c) => `, CAST(NULL AS ${c.type}) AS ${quote(c.name)}`);
  await run(
    context,
    `CREATE TABLE IF NOT EXISTS ${context.table} AS ` +
      `SELECT sluice_shape.*${extras.join('')} FROM ${source} AS sluice_shape LIMIT 0`,
  );
}

/**
 * The target's columns in order. Read through the transaction's session, because a table created
 * in this transaction is not visible to the adapter's other connections yet.
 */
export async function describeTarget(context: WriteContext): Promise<readonly ColumnInfo[]> {
  const result = await select(context, `SELECT * FROM ${context.table} LIMIT 0`);
  return result.columns;
}

/** The target's column names in order (see describeTarget). */
export async function tableColumns(context: WriteContext): Promise<readonly string[]> {
  return (await describeTarget(context)).map((column) => column.name);
}
