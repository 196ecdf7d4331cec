import { SluiceError } from '../../core/errors.js';
import type { Model } from '../../core/model.js';
import type { EngineAdapter, EngineSession, TableName } from '../../engines/engine-adapter.js';
import {
  type SeedTableColumn,
  seedError,
  seedTableColumns,
  shownPath,
} from './seed-table-columns.js';

export type LoadSeedOptions = {
  readonly signal?: AbortSignal;
  /** How many data rows type inference reads (10,000 by default). */
  readonly sampleRows?: number;
};

/**
 * Creates or replaces a SEED model's table and bulk-loads its CSV file, in one transaction.
 * Returns rows loaded.
 *
 * The table keeps the file's column order. Declared columns keep their types; the others are
 * inferred from the first 10,000 data rows, so a later row whose value does not fit the inferred
 * type fails the whole load (error `seed_invalid`, nothing changed): declare `columns (...)` then.
 * A seed is reloaded whole: its rows are deleted and loaded again in the same transaction, and the
 * table is never dropped while its columns stay the same, so views that read it keep working. When
 * the column names change the table is dropped and created again in that transaction (a column
 * whose declared type changes while its name stays keeps its old type: the table is not
 * compared type by type, since each engine spells types its own way).
 *
 * The engine's own CSV loader reads the file in one statement, so the kind's `batch_size` is not
 * used. The model's pre- and post-statements are not run here.
 */
export async function loadSeed(
  adapter: EngineAdapter,
  model: Model,
  target: TableName,
  options: LoadSeedOptions = {},
): Promise<number> {
  if (model.kind.name !== 'SEED') {
    throw new SluiceError('internal', `Model '${model.name}' is not a SEED model`);
  }
  const path = model.kind.path;
  const columns = await seedTableColumns(model, path, {
    dialect: adapter.dialect,
    maxIdentifierBytes: adapter.maxIdentifierBytes,
    sampleRows: options.sampleRows,
    signal: options.signal,
  });

  const queryOptions = { signal: options.signal };
  try {
    await adapter.createSchema(target.schema);
    const existing = await adapter.describeTable(target);
    const isReplacing = existing !== undefined && !sameNames(existing, columns);
    return await adapter.transaction(async (session) => {
      await createTable(adapter, session, target, columns, isReplacing);
      await session.execute(`DELETE FROM ${adapter.quoteTable(target)}`, [], queryOptions);
      return await loadFile(session, model, path, target, columns, queryOptions);
    }, queryOptions);
  } catch (error) {
    throw withModel(error, model, columns);
  }
}

async function createTable(
  adapter: EngineAdapter,
  session: EngineSession,
  target: TableName,
  columns: readonly SeedTableColumn[],
  isReplacing: boolean,
): Promise<void> {
  const table = adapter.quoteTable(target);
  if (isReplacing) await session.execute(`DROP TABLE IF EXISTS ${table}`);
  const definitions = columns.map(
    (column) => `${adapter.quoteIdentifier(column.name)} ${column.type}`,
  );
  await session.execute(`CREATE TABLE IF NOT EXISTS ${table} (${definitions.join(', ')})`);
}

async function loadFile(
  session: EngineSession,
  model: Model,
  path: string,
  target: TableName,
  columns: readonly SeedTableColumn[],
  options: { readonly signal?: AbortSignal },
): Promise<number> {
  try {
    const names = columns.map((column) => column.name);
    return await session.loadCsvFile(target, path, names, options);
  } catch (error) {
    if (!(error instanceof SluiceError) || !isDataError(error)) throw error;
    const hint = columns.every((column) => column.isDeclared)
      ? 'fix the value in the file or the column type in columns (...)'
      : 'fix the value in the file, or declare the column types with columns (...) when the ' +
        'first 10,000 rows suggested the wrong type';
    throw seedError(
      model,
      `Seed file '${shownPath(path)}' of model '${model.name}' could not be loaded: ` +
        `${error.message}; ${hint}. Nothing was changed`,
      error,
    );
  }
}

/**
 * Failures the rows themselves cause: a value that does not convert, a row with too many fields.
 * The connection failing or the load being cancelled have codes of their own.
 */
function isDataError(error: SluiceError): boolean {
  return error.code === 'engine_error';
}

function sameNames(
  existing: readonly { readonly name: string }[],
  columns: readonly SeedTableColumn[],
): boolean {
  return (
    existing.length === columns.length &&
    existing.every((column, index) => column.name === columns[index]?.name)
  );
}

/** Puts the model's name in front of an engine's message, keeping its code. */
function withModel(error: unknown, model: Model, columns: readonly SeedTableColumn[]): unknown {
  if (!(error instanceof SluiceError) || error.code === 'seed_invalid') return error;
  if (error.code === 'engine_type_rejected') {
    const fix = columns.some((column) => column.isDeclared)
      ? "fix the column's type in the model's columns (...)"
      : 'declare the column types with columns (...)';
    return new SluiceError(
      'engine_type_rejected',
      `The engine rejected a column type of seed model '${model.name}': ${error.message}; ${fix}`,
      { location: model.origin, cause: error },
    );
  }
  return new SluiceError(
    error.code,
    `Seed model '${model.name}' could not be loaded: ${error.message}`,
    { retryable: error.retryable, location: model.origin, cause: error },
  );
}
