import type { ColumnDefinition, ModelKind } from '../../core/model.js';
import { upkeepOf } from '../../core/snapshot.js';
import type { EngineAdapter } from '../../engines/engine-adapter.js';
import { addForwardOnlyColumns } from './forward-only-columns.js';
import { type MaterializeRequest, type MaterializeResult, materialize } from './materialize.js';
import { createTableIfMissing } from './target-table.js';
import { inWriteTransaction, parenthesisedQuery } from './write-context.js';

/** How a version's table is to be created. */
export type CreateTargetOptions = {
  /**
   * The version reuses its model's existing table, adding the columns its query gained. Kinds
   * without intervals (views, seeds) are built in full either way.
   */
  readonly isForwardOnly: boolean;
};

/**
 * Creates a version's physical object before any interval is evaluated, so that downstream
 * models can read it even when it has nothing due yet. Tables are created empty with the shape of
 * the query (or the declared columns); views and seeds have no intervals, so creating them is
 * building them; external and embedded models have nothing to create. An existing table is kept;
 * for a forward-only version it gains the columns its query added (see forward-only-columns.ts).
 */
export async function createTarget(
  adapter: EngineAdapter,
  request: MaterializeRequest,
  options: CreateTargetOptions,
): Promise<MaterializeResult> {
  const kind = request.model.kind;
  if (upkeepOf(kind) !== 'intervals') return materialize(adapter, request);

  const startedMs = performance.now();
  await inWriteTransaction(adapter, request, request.rendered.query ?? '', async (context) => {
    await createTableIfMissing(context, parenthesisedQuery(context), extraColumnsOf(kind));
    if (options.isForwardOnly) await addForwardOnlyColumns(context, extraColumnsOf(kind));
  });
  return { rowsWritten: 0, durationMs: Math.round(performance.now() - startedMs) };
}

/** SCD_TYPE_2 adds its validity columns to the query's. */
function extraColumnsOf(kind: ModelKind): readonly ColumnDefinition[] {
  if (kind.name !== 'SCD_TYPE_2') return [];
  return [kind.validFromName, kind.validToName].map((name) => ({ name, type: 'TIMESTAMP' }));
}
