import { SluiceError } from '../../core/errors.js';
import type { EngineAdapter } from '../../engines/engine-adapter.js';
import type { MaterializeRequest } from './materialize.js';

/**
 * EXTERNAL: Sluice writes nothing, but a model that reads a missing source would fail later with
 * a less helpful message, so the table's existence is checked here (one catalogue lookup).
 */
export async function checkExternalTable(
  adapter: EngineAdapter,
  request: MaterializeRequest,
): Promise<void> {
  if (await adapter.tableExists(request.target)) return;
  const { model, target } = request;
  throw new SluiceError(
    'table_missing',
    `Model '${model.name}' is an external table, but ${adapter.quoteTable(target)} does not ` +
      `exist; create it, or correct its declaration in ${model.origin.file}`,
  );
}
