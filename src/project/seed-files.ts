import { closeSync, openSync, readSync } from 'node:fs';
import { relative, sep } from 'node:path';
import { SluiceError } from '../core/errors.js';
import type { ModelDefinition } from '../core/model.js';

const HEADER_BYTES = 64 * 1024;

/**
 * Checks a SEED model's CSV file at load time: it exists, has a header row, and holds every column
 * the model declares. The rows themselves are read when the seed is loaded into an engine.
 */
export function checkSeedFile(root: string, model: ModelDefinition): SluiceError | undefined {
  if (model.kind.name !== 'SEED') return undefined;
  const path = model.kind.path;
  const shown = relative(root, path).split(sep).join('/');

  const header = readHeaderLine(path);
  if (header === undefined) {
    return seedError(
      model,
      `Seed file '${shown}' of model '${model.name}' does not exist; fix the path in ` +
        `kind SEED (path '${model.kind.declaredPath}'), which is relative to ${model.origin.file}`,
    );
  }

  const columns = splitCsvLine(header).map((column) => column.trim().toLowerCase());
  if (columns.every((column) => column === '')) {
    return seedError(
      model,
      `Seed file '${shown}' of model '${model.name}' has no header row; add one`,
    );
  }
  const missing = model.columns.filter((column) => !columns.includes(column.name.toLowerCase()));
  if (missing.length === 0) return undefined;
  return seedError(
    model,
    `Model '${model.name}' declares column${missing.length > 1 ? 's' : ''} ` +
      `${missing.map((column) => `'${column.name}'`).join(', ')} that seed file '${shown}' ` +
      `lacks (its header has ${columns.join(', ')}); add them to the file or fix the columns`,
  );
}

function seedError(model: ModelDefinition, message: string): SluiceError {
  return new SluiceError('seed_invalid', message, { location: model.origin });
}

/** The first line of a file, or undefined when it cannot be opened. */
function readHeaderLine(path: string): string | undefined {
  let descriptor: number;
  try {
    descriptor = openSync(path, 'r');
  } catch {
    return undefined;
  }
  try {
    const buffer = Buffer.alloc(HEADER_BYTES);
    const length = readSync(descriptor, buffer, 0, HEADER_BYTES, 0);
    const text = buffer
      .subarray(0, length)
      .toString('utf8')
      .replace(/^\uFEFF/, '');
    return text.split(/\r?\n/, 1)[0] ?? '';
  } finally {
    closeSync(descriptor);
  }
}

/** Splits one CSV line at commas outside double quotes, unquoting the fields. */
function splitCsvLine(line: string): string[] {
  const fields: string[] = [];
  let field = '';
  let isQuoted = false;
  for (let index = 0; index < line.length; index++) {
    const char = line[index];
    if (char === '"' && isQuoted && line[index + 1] === '"') {
      field += '"';
      index++;
    } else if (char === '"') {
      isQuoted = !isQuoted;
    } else if (char === ',' && !isQuoted) {
      fields.push(field);
      field = '';
    } else {
      field += char;
    }
  }
  fields.push(field);
  return fields;
}
