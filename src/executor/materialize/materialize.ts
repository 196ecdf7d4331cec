/**
 * Writes a model's rows to its table, one strategy per kind. Every write of one call happens in
 * one transaction on one session: the pre-statements run, the kind's strategy writes (creating
 * the table if missing), the post-statements run, and only then is anything committed. A failure
 * or a cancelled signal rolls it all back, so the target is left exactly as it was.
 */

import { SluiceError } from '../../core/errors.js';
import type { Model } from '../../core/model.js';
import type { TableName } from '../../core/table-resolver.js';
import type { Interval } from '../../core/time.js';
import type { EngineAdapter } from '../../engines/engine-adapter.js';
import type { RenderedModel } from '../../project/model-renderer.js';
import { loadSeed } from '../seeds/load-seed.js';
import { checkExternalTable } from './check-external.js';
import { inWriteTransaction, run, type WriteContext } from './write-context.js';
import { writeFull } from './write-full.js';
import { writeScdType2 } from './write-scd-type-2.js';
import { writeTimeRange } from './write-time-range.js';
import { writeUniqueKey } from './write-unique-key.js';
import { writeView } from './write-view.js';

/** What to materialise: a model, where its rows go, its rendered SQL and the interval it covers. */
export type MaterializeRequest = {
  readonly model: Model;
  /** Where the model's rows go; the caller's resolver decides (see src/core/table-resolver.ts). */
  readonly target: TableName;
  /** Pre-statements, query and post-statements with references resolved and EMBEDDED inlined. */
  readonly rendered: RenderedModel;
  /** The interval `[start, end)` in UTC that this run covers. */
  readonly interval: Interval;
  readonly executionTime: Date;
  readonly signal?: AbortSignal;
};

/** How much one call wrote: rows inserted (0 for kinds that insert none) and how long it took. */
export type MaterializeResult = { readonly rowsWritten: number; readonly durationMs: number };

/** A strategy that writes one kind's rows inside the open transaction; returns rows inserted. */
type WriteStrategy = (context: WriteContext) => Promise<number>;

/** Materialises one model through the adapter; engine errors come back naming the model. */
export async function materialize(
  adapter: EngineAdapter,
  request: MaterializeRequest,
): Promise<MaterializeResult> {
  const startedMs = performance.now();
  try {
    const rowsWritten = await write(adapter, request);
    return { rowsWritten, durationMs: Math.round(performance.now() - startedMs) };
  } catch (error) {
    throw withModelName(error, request.model.name);
  }
}

async function write(adapter: EngineAdapter, request: MaterializeRequest): Promise<number> {
  const kind = request.model.kind;
  switch (kind.name) {
    case 'EMBEDDED':
      // An embedded model has no table: the renderer inlines its query where it is used.
      return 0;
    case 'EXTERNAL':
      await checkExternalTable(adapter, request);
      return 0;
    case 'SEED':
      return loadSeed(adapter, request.model, request.target, { signal: request.signal });
    case 'VIEW':
      // DuckDB has no materialized views, so `materialized true` builds a table on both engines,
      // which gives the same rows to readers and the same behaviour everywhere.
      return inTransaction(adapter, request, kind.isMaterialized ? writeFull : writeView);
    case 'FULL':
      return inTransaction(adapter, request, writeFull);
    case 'INCREMENTAL_BY_TIME_RANGE':
      return inTransaction(adapter, request, (context) => writeTimeRange(context, kind));
    case 'INCREMENTAL_BY_UNIQUE_KEY':
      return inTransaction(adapter, request, (context) => writeUniqueKey(context, kind));
    case 'SCD_TYPE_2':
      return inTransaction(adapter, request, (context) => writeScdType2(context, kind));
  }
}

async function inTransaction(
  adapter: EngineAdapter,
  request: MaterializeRequest,
  strategy: WriteStrategy,
): Promise<number> {
  const query = requireQuery(request);
  return inWriteTransaction(adapter, request, query, async (context) => {
    const rowsWritten = await strategy(context);
    for (const statement of request.rendered.postStatements) await run(context, statement);
    return rowsWritten;
  });
}

function requireQuery(request: MaterializeRequest): string {
  const query = request.rendered.query;
  if (query !== undefined && query.trim() !== '') return query;
  throw new SluiceError(
    'model_query_invalid',
    `Model '${request.model.name}' of kind ${request.model.kind.name} has no query to ` +
      `materialise; write a SELECT after its MODEL header in ${request.model.origin.file}`,
  );
}

/** Puts the model's name in front of an engine's message, keeping the code and the cause. */
function withModelName(error: unknown, modelName: string): unknown {
  if (!(error instanceof SluiceError)) return error;
  const prefix = `Model '${modelName}'`;
  if (error.message.startsWith(prefix)) return error;
  return new SluiceError(error.code, `${prefix}: ${error.message}`, {
    cause: error,
    retryable: error.retryable,
    location: error.location,
  });
}
