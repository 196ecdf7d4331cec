import { isAbsolute, relative, sep } from 'node:path';
import { CsvError } from 'csv-parse';
import { SluiceError } from '../../core/errors.js';
import type { Dialect, Model } from '../../core/model.js';
import { readCsvHeader } from '../../project/csv-header.js';
import { matchSeedColumns } from '../../project/seed-columns.js';
import { readCsvSample, SAMPLE_ROWS } from './csv-sample.js';
import { inferSeedType, seedTypeName } from './seed-types.js';

/** A column of a seed's table: its name, its type in the engine's SQL, and where it came from. */
export type SeedTableColumn = {
  readonly name: string;
  readonly type: string;
  readonly isDeclared: boolean;
};

export type SeedColumnOptions = {
  readonly dialect: Dialect;
  readonly maxIdentifierBytes: number;
  /** How many data rows type inference reads; SAMPLE_ROWS by default. */
  readonly sampleRows?: number;
  readonly signal?: AbortSignal;
};

/**
 * The columns of a seed's table in the order of its file's header: the declared types when the
 * model declares columns, otherwise types inferred from the first rows of the file.
 */
export async function seedTableColumns(
  model: Model,
  path: string,
  options: SeedColumnOptions,
): Promise<SeedTableColumn[]> {
  const header = readCsvHeader(path);
  if (header === undefined) {
    throw seedError(
      model,
      `Seed file '${shownPath(path)}' of model '${model.name}' cannot be read; check that it exists`,
    );
  }
  const match = matchSeedColumns(model, header, shownPath(path));
  if (!match.isValid) throw seedError(model, match.problem);
  checkNameLengths(model, path, match.columns, options.maxIdentifierBytes);

  const undeclared = match.columns.some((column) => column.type === undefined);
  const sample = undeclared ? await sampleOf(model, path, options) : [];
  return match.columns.map((column, index) => {
    if (column.type !== undefined) {
      return { name: column.name, type: column.type, isDeclared: true };
    }
    const inferred = inferSeedType(sample.map((row) => row[index] ?? ''));
    return { name: column.name, type: seedTypeName(inferred, options.dialect), isDeclared: false };
  });
}

async function sampleOf(
  model: Model,
  path: string,
  options: SeedColumnOptions,
): Promise<string[][]> {
  try {
    return await readCsvSample(path, options.sampleRows ?? SAMPLE_ROWS, options.signal);
  } catch (error) {
    if (!(error instanceof CsvError)) throw error;
    throw seedError(
      model,
      `Seed file '${shownPath(path)}' of model '${model.name}' is not valid CSV: ` +
        `${error.message}; fix the file (fields with commas, quotes or line breaks go in ` +
        'double quotes, a quote inside them is doubled)',
      error,
    );
  }
}

function checkNameLengths(
  model: Model,
  path: string,
  columns: readonly { readonly name: string }[],
  maxBytes: number,
): void {
  const long = columns.find((column) => Buffer.byteLength(column.name, 'utf8') > maxBytes);
  if (long === undefined) return;
  throw seedError(
    model,
    `Column '${long.name}' of seed file '${shownPath(path)}' of model '${model.name}' is longer ` +
      `than the engine's limit of ${maxBytes} bytes; shorten it in the file's header`,
  );
}

/** A seed_invalid error located at the model's definition. */
export function seedError(model: Model, message: string, cause?: unknown): SluiceError {
  return new SluiceError('seed_invalid', message, { location: model.origin, cause });
}

/** A seed file's path for messages: relative to the working folder when inside it. */
export function shownPath(path: string): string {
  const inside = relative(process.cwd(), path);
  return inside.startsWith('..') || isAbsolute(inside) ? path : inside.split(sep).join('/');
}
