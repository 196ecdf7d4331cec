import { type Kysely, sql } from 'kysely';
import { SluiceError } from '../core/errors.js';
import { appendAuditEntry } from './audit-log.js';
import { hitFailpoint } from './failpoint.js';
import type { StateDatabase, StateStore } from './state-store.js';
import type { EncryptedColumn, PayloadAddress } from './state-types.js';
import { internalsOf } from './store-internals.js';

/**
 * `sluice state rekey`: rewraps every encrypted payload that is not on the key ring's active key,
 * then (on SQLite) re-encrypts the file itself, then counts the payloads per key. Rows are walked
 * in id order with a cursor and rewrapped in batches, each committed on its own, so a run that
 * dies loses nothing and the next run skips the rows already on the active key. A run that
 * completes records itself in the audit log (encrypted with the active key, so the payload
 * counts it reports include that entry).
 */

/** Where a rekey run is, reported after each batch. */
export type RekeyProgress = {
  readonly table: string;
  readonly column: string;
  readonly scanned: number;
  readonly rewrapped: number;
};

/** Options of a rekey run. */
export type RekeyOptions = {
  readonly batchSize?: number;
  readonly onProgress?: (progress: RekeyProgress) => void;
  /** Who runs it, for the audit log; 'local' (the command line on this machine) by default. */
  readonly actor?: string;
};

/** What a rekey run did, and how many payloads each key id encrypts afterwards. */
export type RekeyReport = {
  readonly rewrapped: number;
  readonly rowsByKey: Record<string, number>;
};

const DEFAULT_BATCH_SIZE = 500;
/** A batch's ids are bound as parameters of one statement; both backends allow this many. */
const MAX_BATCH_SIZE = 10_000;

/**
 * A payload's header is at most 2 + 255 bytes of version and key id, then 12 of nonce and 16 of
 * tag (see crypto/payload-cipher.ts); reading this much is enough for `cipher.keyIdOf`, so the
 * scan never fetches whole payloads that are already on the active key.
 */
const HEADER_PREFIX_BYTES = 2 + 255 + 12 + 16;

type HeaderRow = { readonly rowId: unknown; readonly head: Buffer | null };

/** Rewraps every payload onto the active key; see the module comment. */
export async function rekeyState(
  store: StateStore,
  options: RekeyOptions = {},
): Promise<RekeyReport> {
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_BATCH_SIZE) {
    throw new SluiceError(
      'usage',
      `The rekey batch size must be a whole number from 1 to ${MAX_BATCH_SIZE}`,
    );
  }

  const run = { batches: 0, rewrapped: 0 };
  for (const column of store.encryptedColumns()) {
    await rewrapColumn(store, column, batchSize, run, options.onProgress);
  }
  await internalsOf(store).rekeyFile();
  await appendAuditEntry(store, {
    actor: options.actor ?? 'local',
    action: 'state.rekeyed',
    subject: 'state',
    details: { keyId: store.keyRing.active.id, rows: run.rewrapped },
  });

  return { rewrapped: run.rewrapped, rowsByKey: await countPayloadsByKey(store, batchSize) };
}

/** How many payloads each key id encrypts, over every encrypted column. */
export async function countPayloadsByKey(
  store: StateStore,
  batchSize = DEFAULT_BATCH_SIZE,
): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const column of store.encryptedColumns()) {
    await forEachHeaderBatch(store.db, column, batchSize, (rows) => {
      for (const row of rows) {
        if (row.head === null) continue;
        const keyId = keyIdOf(store, row.head, addressOf(column, row.rowId));
        counts[keyId] = (counts[keyId] ?? 0) + 1;
      }
    });
  }
  return counts;
}

async function rewrapColumn(
  store: StateStore,
  column: EncryptedColumn,
  batchSize: number,
  run: { batches: number; rewrapped: number },
  onProgress: RekeyOptions['onProgress'],
): Promise<void> {
  const activeId = store.keyRing.active.id;
  const progress = { table: column.table, column: column.column, scanned: 0, rewrapped: 0 };

  await forEachHeaderBatch(store.db, column, batchSize, async (rows) => {
    const stale = rows.filter(
      (row) =>
        row.head !== null && keyIdOf(store, row.head, addressOf(column, row.rowId)) !== activeId,
    );
    const rewrapped = stale.length === 0 ? 0 : await rewrapRows(store, column, stale);

    progress.scanned += rows.length;
    progress.rewrapped += rewrapped;
    run.rewrapped += rewrapped;
    onProgress?.({ ...progress });
    if (rewrapped > 0) hitFailpoint(`rekey-after-batch:${++run.batches}`);
  });
}

/**
 * Rewraps the given rows in one transaction. The payloads are read again inside it (locked on
 * PostgreSQL; SQLite's transaction holds the write lock), so a payload written meanwhile by
 * another process is never replaced by an older one.
 */
async function rewrapRows(
  store: StateStore,
  column: EncryptedColumn,
  stale: readonly HeaderRow[],
): Promise<number> {
  return internalsOf(store).writeTransaction(async (db) => {
    const rows = await db
      .selectFrom(column.table)
      .select([sql.ref(column.idColumn).as('rowId'), sql.ref(column.column).as('payload')])
      .where(
        sql.ref(column.idColumn),
        'in',
        stale.map((row) => row.rowId),
      )
      .$if(store.backend === 'postgres', (query) => query.forUpdate())
      .execute();

    let rewrapped = 0;
    for (const row of rows) {
      if (row.payload === null) continue;
      const address = addressOf(column, row.rowId);
      const payload = asBuffer(row.payload, address);
      if (keyIdOf(store, payload, address) === store.keyRing.active.id) continue;

      const fresh = store.cipher.encrypt(store.cipher.decrypt(payload, address), address);
      await db
        .updateTable(column.table)
        .set({ [column.column]: fresh })
        .where(sql.ref(column.idColumn), '=', row.rowId)
        .execute();
      rewrapped += 1;
    }
    return rewrapped;
  });
}

/** Walks a column in id order, `batchSize` rows at a time, reading only payload headers. */
async function forEachHeaderBatch(
  db: Kysely<StateDatabase>,
  column: EncryptedColumn,
  batchSize: number,
  visit: (rows: readonly HeaderRow[]) => void | Promise<void>,
): Promise<void> {
  const prefixBytes = sql.lit(HEADER_PREFIX_BYTES);
  const head = sql<Buffer | null>`substr(${sql.ref(column.column)}, 1, ${prefixBytes})`;
  let after: unknown;
  for (;;) {
    const rows = await db
      .selectFrom(column.table)
      .select([sql.ref(column.idColumn).as('rowId'), head.as('head')])
      .$if(after !== undefined, (query) => query.where(sql.ref(column.idColumn), '>', after))
      .orderBy(sql.ref(column.idColumn))
      .limit(batchSize)
      .execute();

    const last = rows.at(-1);
    if (last === undefined) return;
    await visit(rows.map((row) => ({ rowId: row.rowId, head: row.head as Buffer | null })));
    if (rows.length < batchSize) return;
    after = last.rowId;
  }
}

function keyIdOf(store: StateStore, payload: Buffer, address: PayloadAddress): string {
  try {
    return store.cipher.keyIdOf(asBuffer(payload, address));
  } catch (error) {
    throw new SluiceError(
      'payload_undecryptable',
      `The payload in '${address.table}.${address.column}' of row '${address.rowId}' has no ` +
        'readable key header, so it cannot be rekeyed; restore the row from a backup',
      { cause: error },
    );
  }
}

function asBuffer(value: unknown, address: PayloadAddress): Buffer {
  if (Buffer.isBuffer(value)) return value;
  throw new SluiceError(
    'payload_undecryptable',
    `The payload in '${address.table}.${address.column}' of row '${address.rowId}' is not ` +
      'stored as bytes; restore the row from a backup',
  );
}

function addressOf(column: EncryptedColumn, rowId: unknown): PayloadAddress {
  return { table: column.table, column: column.column, rowId: String(rowId) };
}
