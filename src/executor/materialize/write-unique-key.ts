import type { ModelKind } from '../../core/model.js';
import { dropStagedRows, STAGED_ROWS, stageRows } from './staged-rows.js';
import { createTableIfMissing, tableColumns } from './target-table.js';
import { columnList, keysEqual, run, type WriteContext } from './write-context.js';

type UniqueKeyKind = Extract<ModelKind, { name: 'INCREMENTAL_BY_UNIQUE_KEY' }>;

/**
 * INCREMENTAL_BY_UNIQUE_KEY: merges the query's rows on the key. The rows are staged, checked
 * (one row per key, no NULL key), the table's rows with a staged key are deleted and the staged
 * rows inserted. Keys are compared with `=`, which both engines run as a hash join.
 */
export async function writeUniqueKey(context: WriteContext, kind: UniqueKeyKind): Promise<number> {
  await stageRows(context, kind.uniqueKey);
  await createTableIfMissing(context, STAGED_ROWS);
  const columns = await tableColumns(context);

  await run(
    context,
    `DELETE FROM ${context.table} AS sluice_target WHERE EXISTS (SELECT 1 FROM ${STAGED_ROWS} ` +
      `AS sluice_new WHERE ${keysEqual(context, kind.uniqueKey, 'sluice_new', 'sluice_target')})`,
  );
  const inserted = await run(
    context,
    `INSERT INTO ${context.table} (${columnList(context, columns)}) ` +
      `SELECT ${columnList(context, columns, 'sluice_new')} FROM ${STAGED_ROWS} AS sluice_new`,
  );
  await dropStagedRows(context);
  return inserted;
}
