import { relative, sep } from 'node:path';
import { SluiceError } from '../core/errors.js';
import type { ModelDefinition } from '../core/model.js';
import { readCsvHeader } from './csv-header.js';
import { matchSeedColumns } from './seed-columns.js';

/**
 * Checks a SEED model's CSV file at load time: it exists, has a header row, and its header names
 * exactly the columns the model declares, when it declares any (the rule `loadSeed` applies again
 * when the seed is loaded). The rows themselves are read when the seed is loaded into an engine.
 */
export function checkSeedFile(root: string, model: ModelDefinition): SluiceError | undefined {
  if (model.kind.name !== 'SEED') return undefined;
  const path = model.kind.path;
  const shown = relative(root, path).split(sep).join('/');

  const header = readCsvHeader(path);
  if (header === undefined) {
    return seedError(
      model,
      `Seed file '${shown}' of model '${model.name}' does not exist; fix the path in ` +
        `kind SEED (path '${model.kind.declaredPath}'), which is relative to ${model.origin.file}`,
    );
  }

  const match = matchSeedColumns(model, header, shown);
  return match.isValid ? undefined : seedError(model, match.problem);
}

function seedError(model: ModelDefinition, message: string): SluiceError {
  return new SluiceError('seed_invalid', message, { location: model.origin });
}
