import { type Kysely, type RawBuilder, sql } from 'kysely';
import { SluiceError } from '../../core/errors.js';
import type { StateStore } from '../state-store.js';
import { type ExportWriter, openExportWriter } from './export-cipher.js';
import {
  type ExportValue,
  formatExportLine,
  VERSION_COLUMN,
  VERSION_TABLE,
} from './export-lines.js';
import { describeTables, type ExportTable } from './postgres-tables.js';

/**
 * The PostgreSQL backup: a logical export of the store's tables, all read in one REPEATABLE READ
 * READ ONLY transaction through the store's own connection pool, so the export is one consistent
 * snapshot taken while Schedulers keep writing, and no external tool (pg_dump) is needed.
 */

/** Rows read per query; at ~10 KB per row this keeps a batch near 20 MB. */
const BATCH_ROWS = 2_000;

/** What an export wrote. */
export type ExportSummary = {
  readonly keyId: string;
  readonly schemaVersion: number;
  readonly tables: Readonly<Record<string, number>>;
  readonly sizeBytes: number;
  readonly checksumSha256: string;
};

// biome-ignore lint/suspicious/noExplicitAny: the export reads tables the type does not name
type AnyDb = Kysely<any>;
type Cursor = { readonly values: readonly unknown[] };

/** Writes an encrypted export of the store to `path`, an empty file this process created. */
export async function writePostgresExport(store: StateStore, path: string): Promise<ExportSummary> {
  const schema = postgresSchemaOf(store);
  const names = await store.tableNames();
  const writer = await openExportWriter(path, store.keyRing.active);
  try {
    const content = await store.db
      .transaction()
      .setIsolationLevel('repeatable read')
      .setAccessMode('read only')
      .execute((trx) => exportTables(trx, schema, names, writer));
    return { keyId: store.keyRing.active.id, ...content, ...(await writer.finish()) };
  } catch (error) {
    await writer.abort();
    throw error;
  }
}

/** The store's PostgreSQL schema. */
export function postgresSchemaOf(store: StateStore): string {
  if (store.location.backend !== 'postgres') {
    throw new SluiceError('internal', `A ${store.backend} store has no PostgreSQL schema`);
  }
  return store.location.schema;
}

async function exportTables(
  db: AnyDb,
  schema: string,
  names: readonly string[],
  writer: ExportWriter,
): Promise<{ schemaVersion: number; tables: Record<string, number> }> {
  const tables = await describeTables(db, schema, names);
  await writer.writeLine(formatExportLine({ kind: 'start', tables: tables.map((t) => t.name) }));

  const counts: Record<string, number> = {};
  let schemaVersion = 0;
  for (const table of tables) {
    await writer.writeLine(
      formatExportLine({ kind: 'table', table: table.name, columns: table.columns }),
    );
    const versionIndex = table.columns.findIndex((column) => column.name === VERSION_COLUMN);
    counts[table.name] = 0;
    for await (const row of readRows(db, schema, table)) {
      await writer.writeLine(formatExportLine({ kind: 'row', table: table.name, row }));
      counts[table.name] = (counts[table.name] ?? 0) + 1;
      if (table.name === VERSION_TABLE && versionIndex >= 0) {
        schemaVersion = Math.max(schemaVersion, Number(row[versionIndex]));
      }
    }
  }

  await writer.writeLine(formatExportLine({ kind: 'end', schemaVersion, rows: counts }));
  return { schemaVersion, tables: counts };
}

/** A table's rows in primary-key order (physical order without a key), in batches. */
async function* readRows(
  db: AnyDb,
  schema: string,
  table: ExportTable,
): AsyncGenerator<ExportValue[]> {
  const keys = table.primaryKey.length > 0 ? table.primaryKey : ['ctid'];
  const keyTypes = keys.map(
    (key) => table.columns.find((column) => column.name === key)?.type ?? 'tid',
  );
  const select = sql.join([
    ...table.columns.map((column, index) => selected(column.name, column.isBytes, `c${index}`)),
    ...keys.map((key, index) => selected(key, keyTypes[index] === 'bytea', `k${index}`)),
  ]);

  let cursor: Cursor | undefined;
  for (;;) {
    const after = cursor === undefined ? sql`TRUE` : keyAfter(keys, keyTypes, cursor);
    const batch = await sql<Record<string, unknown>>`
      SELECT ${select} FROM ${sql.id(schema, table.name)} WHERE ${after}
      ORDER BY ${sql.join(keys.map((key) => sql.id(key)))} LIMIT ${BATCH_ROWS}`.execute(db);

    for (const row of batch.rows)
      yield table.columns.map((column, index) => exported(row[`c${index}`], column.isBytes));
    const last = batch.rows.at(-1);
    if (last === undefined || batch.rows.length < BATCH_ROWS) return;
    cursor = { values: keys.map((_, index) => last[`k${index}`]) };
  }
}

/**
 * Bytes are read as they are and base64-encoded here; every other type as PostgreSQL's text form,
 * which keeps what JavaScript values would lose (microseconds, 64-bit integers, numeric digits).
 */
function selected(column: string, isBytes: boolean, alias: string): RawBuilder<unknown> {
  return isBytes
    ? sql`${sql.id(column)} AS ${sql.id(alias)}`
    : sql`${sql.id(column)}::text AS ${sql.id(alias)}`;
}

function exported(value: unknown, isBytes: boolean): ExportValue {
  if (value === null || value === undefined) return null;
  return isBytes ? (value as Buffer).toString('base64') : String(value);
}

/** `(k1, k2) > (last k1, last k2)`, with each value cast back to its column's type. */
function keyAfter(keys: readonly string[], types: readonly string[], cursor: Cursor) {
  const values = cursor.values.map(
    (value, index) => sql`CAST(${value} AS ${sql.raw(types[index] ?? 'text')})`,
  );
  return sql`(${sql.join(keys.map((key) => sql.id(key)))}) > (${sql.join(values)})`;
}
