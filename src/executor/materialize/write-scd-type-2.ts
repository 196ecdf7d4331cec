import type { ModelKind } from '../../core/model.js';
import { dropStagedRows, STAGED_ROWS, stageRows } from './staged-rows.js';
import { createTableIfMissing, tableColumns } from './target-table.js';
import { columnList, keysEqual, run, timestampText, type WriteContext } from './write-context.js';

type ScdType2Kind = Extract<ModelKind, { name: 'SCD_TYPE_2' }>;

/** valid_from of the first version of a key when updated_at_as_valid_from is off. */
const BEGINNING_OF_TIME = "TIMESTAMP '1970-01-01 00:00:00'";

/**
 * SCD_TYPE_2 by an updated-at column. The query returns the current state of every key; the table
 * keeps every version of each key with the period `[valid_from, valid_to)` it was current, the
 * current one having valid_to NULL. A key whose staged updated_at is newer than its current row's
 * closes that row at the staged updated_at and gets a new current row from then; a new key gets
 * its first row; a key with an unchanged (or older) updated_at is left alone; a key missing from
 * the query is closed at the execution time when invalidate_hard_deletes is set, else it stays
 * current. Running again with the same rows changes nothing.
 */
export async function writeScdType2(context: WriteContext, kind: ScdType2Kind): Promise<number> {
  await stageRows(context, kind.uniqueKey);
  const validity = [kind.validFromName, kind.validToName].map((name) => ({
    name,
    type: 'TIMESTAMP',
  }));
  await createTableIfMissing(context, STAGED_ROWS, validity);
  const columns = (await tableColumns(context)).filter(
    (column) => column !== kind.validFromName && column !== kind.validToName,
  );

  await closeChangedRows(context, kind);
  if (kind.shouldInvalidateHardDeletes) await closeDeletedRows(context, kind);
  const inserted = await insertCurrentRows(context, kind, columns);
  await dropStagedRows(context);
  return inserted;
}

async function closeChangedRows(context: WriteContext, kind: ScdType2Kind): Promise<void> {
  const quote = (name: string) => context.adapter.quoteIdentifier(name);
  const updatedAt = quote(kind.updatedAtName);
  await run(
    context,
    `UPDATE ${context.table} AS sluice_target ` +
      `SET ${quote(kind.validToName)} = CAST(sluice_new.${updatedAt} AS TIMESTAMP) ` +
      `FROM ${STAGED_ROWS} AS sluice_new ` +
      `WHERE sluice_target.${quote(kind.validToName)} IS NULL ` +
      `AND ${keysEqual(context, kind.uniqueKey, 'sluice_new', 'sluice_target')} ` +
      `AND sluice_new.${updatedAt} > sluice_target.${updatedAt}`,
  );
}

async function closeDeletedRows(context: WriteContext, kind: ScdType2Kind): Promise<void> {
  const validTo = context.adapter.quoteIdentifier(kind.validToName);
  await run(
    context,
    `UPDATE ${context.table} AS sluice_target SET ${validTo} = CAST($1 AS TIMESTAMP) ` +
      `WHERE sluice_target.${validTo} IS NULL AND NOT EXISTS (SELECT 1 FROM ${STAGED_ROWS} ` +
      `AS sluice_new WHERE ${keysEqual(context, kind.uniqueKey, 'sluice_new', 'sluice_target')})`,
    [timestampText(context.request.executionTime)],
  );
}

/**
 * Inserts a current row for every staged key that has none (after closing the changed ones): a
 * key seen before starts at its updated_at, a new key at updated_at or the beginning of time.
 */
async function insertCurrentRows(
  context: WriteContext,
  kind: ScdType2Kind,
  columns: readonly string[],
): Promise<number> {
  const quote = (name: string) => context.adapter.quoteIdentifier(name);
  const validTo = quote(kind.validToName);
  const updatedAt = `CAST(sluice_new.${quote(kind.updatedAtName)} AS TIMESTAMP)`;
  const keyOf = (alias: string) => keysEqual(context, kind.uniqueKey, alias, 'sluice_new');
  const validFrom = kind.isUpdatedAtValidFrom
    ? updatedAt
    : `CASE WHEN EXISTS (SELECT 1 FROM ${context.table} AS sluice_seen ` +
      `WHERE ${keyOf('sluice_seen')}) THEN ${updatedAt} ELSE ${BEGINNING_OF_TIME} END`;

  return run(
    context,
    `INSERT INTO ${context.table} ` +
      `(${columnList(context, [...columns, kind.validFromName, kind.validToName])}) ` +
      `SELECT ${columnList(context, columns, 'sluice_new')}, ${validFrom}, ` +
      `CAST(NULL AS TIMESTAMP) FROM ${STAGED_ROWS} AS sluice_new ` +
      `WHERE NOT EXISTS (SELECT 1 FROM ${context.table} AS sluice_current ` +
      `WHERE ${keyOf('sluice_current')} AND sluice_current.${validTo} IS NULL)`,
  );
}
