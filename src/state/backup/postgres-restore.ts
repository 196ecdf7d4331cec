import { createHash } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import { SluiceError } from '../../core/errors.js';
import type { StateStore } from '../state-store.js';
import { type BackupManifest, backupInvalid, checkAgainstManifest } from './backup-manifest.js';
import type { ExportValue } from './export-lines.js';
import { postgresSchemaOf } from './postgres-export.js';
import { readPostgresExport } from './postgres-export-reader.js';
import { advanceSequences, describeTables, type ExportColumn } from './postgres-tables.js';

/**
 * Restores a verified PostgreSQL export into the store in one transaction: lock the store's
 * tables, empty them, insert the exported rows in batches, move sequences past the restored ids,
 * commit. Other Schedulers wait on the locks and then see either the old state or the restored
 * one; a failure at any point (the file's tag included) rolls everything back.
 */

/** PostgreSQL accepts at most 65,535 parameters in a statement. */
const MAX_PARAMETERS = 60_000;
const BATCH_ROWS = 500;

// biome-ignore lint/suspicious/noExplicitAny: the restore writes tables the type does not name
type AnyDb = Kysely<any>;

/** Replaces the content of the store's tables with the export at `path`. */
export async function restorePostgres(
  store: StateStore,
  path: string,
  manifest: BackupManifest,
): Promise<void> {
  const schema = postgresSchemaOf(store);
  const names = Object.keys(manifest.tables).sort();
  const qualified = sql.join(names.map((name) => sql.id(schema, name)));

  await store.db.transaction().execute(async (trx) => {
    await sql`LOCK TABLE ${qualified} IN ACCESS EXCLUSIVE MODE`.execute(trx);
    const live = new Map((await describeTables(trx, schema, names)).map((t) => [t.name, t]));
    await sql`TRUNCATE ${qualified}`.execute(trx);

    const inserter = new BatchInserter(trx, schema);
    const hash = createHash('sha256');
    const content = await readPostgresExport(path, store.keyRing, manifest.sizeBytes, hash, {
      onTable: async (table, columns) => {
        await inserter.flush();
        const target = live.get(table);
        if (target === undefined) throw notInStore(table);
        inserter.start(target.name, checkedColumns(table, columns, target.columns));
      },
      onRow: (_table, row) => inserter.add(row),
    });
    await inserter.flush();
    // The file was verified before; this catches it being replaced since.
    if (hash.digest('hex') !== manifest.checksumSha256) {
      throw backupInvalid(
        path,
        'its SHA-256 checksum differs from its manifest: the file was altered',
      );
    }
    checkAgainstManifest(path, manifest, content.schemaVersion, content.tables);

    for (const name of names) await advanceSequences(trx, schema, name);
  });
}

/**
 * The live table's columns in the export's order, refused unless both have exactly the same
 * names and types. The inserts use the live definitions, never text read from the file, whose
 * authentication tag is only checked at the end.
 */
function checkedColumns(
  table: string,
  exported: readonly ExportColumn[],
  live: readonly ExportColumn[],
): readonly ExportColumn[] {
  const describe = (columns: readonly ExportColumn[]) =>
    columns
      .map((column) => `${column.name} ${column.type}`)
      .sort()
      .join(', ');
  if (describe(exported) !== describe(live)) {
    throw new SluiceError(
      'backup_refused',
      `Table '${table}' in the backup has columns (${describe(exported)}) but the store's has ` +
        `(${describe(live)}); restore the backup with the Sluice version that wrote it`,
    );
  }
  return exported.map(
    (column) => live.find((candidate) => candidate.name === column.name) ?? column,
  );
}

function notInStore(table: string): SluiceError {
  return new SluiceError(
    'backup_refused',
    `The backup holds table '${table}', which its manifest does not list; the file was altered`,
  );
}

/** Collects rows of one table and inserts them a batch at a time. */
class BatchInserter {
  readonly #db: AnyDb;
  readonly #schema: string;
  #table = '';
  #columns: readonly ExportColumn[] = [];
  #rows: (string | Buffer | null)[][] = [];
  #batchRows = BATCH_ROWS;

  constructor(db: AnyDb, schema: string) {
    this.#db = db;
    this.#schema = schema;
  }

  start(table: string, columns: readonly ExportColumn[]): void {
    this.#table = table;
    this.#columns = columns;
    this.#batchRows = Math.max(
      1,
      Math.min(BATCH_ROWS, Math.floor(MAX_PARAMETERS / columns.length)),
    );
  }

  async add(row: readonly ExportValue[]): Promise<void> {
    this.#rows.push(
      row.map((value, index) =>
        value !== null && this.#columns[index]?.isBytes === true
          ? Buffer.from(value, 'base64')
          : value,
      ),
    );
    if (this.#rows.length >= this.#batchRows) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.#rows.length === 0) return;
    const types = this.#columns.map((column) => sql.raw(column.type));
    const values = this.#rows.map(
      (row) =>
        sql`(${sql.join(row.map((value, index) => sql`CAST(${value} AS ${types[index]})`))})`,
    );
    this.#rows = [];

    await sql`
      INSERT INTO ${sql.id(this.#schema, this.#table)}
        (${sql.join(this.#columns.map((column) => sql.id(column.name)))})
      OVERRIDING SYSTEM VALUE VALUES ${sql.join(values)}`.execute(this.#db);
  }
}
