import { sql } from 'kysely';
import { SluiceError } from '../core/errors.js';
import { decryptPayloads, type EncryptedPayload } from './payload-decryption.js';
import type { StateStore } from './state-store.js';
import { internalsOf } from './store-internals.js';

/**
 * Reading many rows of a table with an encrypted payload column: the plain columns as they are
 * and the payload decrypted, in one call that every bulk reader (the audit log, snapshots,
 * plans) can share. On SQLite the rows come through Kysely. On PostgreSQL they come through
 * `COPY ... TO STDOUT (FORMAT binary)`, because node-postgres receives a bytea as hex text, which
 * doubles the bytes and takes about as long to decode as decrypting them; the rows arrive in
 * batches, and each batch is decrypted while the next one arrives.
 */

/** A plain column's type, as its values are returned: `text` a string, `integer` a number. */
export type PlainColumnType = 'text' | 'text | null' | 'integer' | 'integer | null';

/** The plain columns to read, by name, with their types. */
export type PlainColumns = Readonly<Record<string, PlainColumnType>>;

/** A comparison the rows must pass; all of a query's conditions must hold. */
export type PayloadRowCondition =
  | {
      readonly column: string;
      readonly op: '=' | '<>' | '<' | '<=' | '>' | '>=';
      readonly value: string | number;
    }
  | { readonly column: string; readonly op: 'in'; readonly value: readonly (string | number)[] }
  | { readonly column: string; readonly op: 'is null' }
  | { readonly column: string; readonly op: 'is not null' };

/** One key of the order, ascending unless said otherwise. */
export type PayloadRowOrder = { readonly column: string; readonly direction?: 'asc' | 'desc' };

/**
 * Which rows to read. Table and column names are plain lower-case SQL identifiers written in code;
 * condition values may come from users and are never part of the statement's text unescaped.
 */
export type PayloadRowQuery = {
  readonly table: string;
  /** The plain columns to return beside the payload. */
  readonly columns: PlainColumns;
  /** The column whose value is the `rowId` of each payload's address; one of `columns`. */
  readonly idColumn: string;
  /** The encrypted column, NOT NULL; returned decrypted under its own name. */
  readonly payloadColumn: string;
  readonly where?: readonly PayloadRowCondition[];
  readonly orderBy?: readonly PayloadRowOrder[];
  /** At most this many rows, a positive integer. */
  readonly limit?: number;
};

/** A query whose column names and types also type the rows it returns. */
export type TypedPayloadRowQuery<C extends PlainColumns, P extends string> = PayloadRowQuery & {
  readonly columns: C;
  readonly idColumn: keyof C & string;
  readonly payloadColumn: P;
};

type ValueOf<T extends PlainColumnType> = T extends 'text'
  ? string
  : T extends 'integer'
    ? number
    : T extends 'text | null'
      ? string | null
      : number | null;

/**
 * A row read: each plain column's value and the payload's plaintext. The plaintexts of a large
 * read may be views of one shared buffer, so a caller that keeps a few of many should copy them.
 */
export type PayloadRow<C extends PlainColumns, P extends string> = {
  -readonly [K in keyof C]: ValueOf<C[K]>;
} & { [K in P]: Buffer };

/** A row as a backend reads it: plain values normalised, the payload still a ciphertext. */
export type EncryptedRow = Record<string, unknown>;

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

/**
 * Reads the rows a query selects and decrypts their payloads with the store's key ring, in the
 * query's order. A payload that does not decrypt rejects with `payload_undecryptable` for the
 * first such row in order, as `store.cipher.decrypt` would; nothing is returned then.
 */
export async function readPayloadRows<const C extends PlainColumns, const P extends string>(
  store: StateStore,
  query: TypedPayloadRowQuery<C, P>,
): Promise<PayloadRow<C, P>[]> {
  checkQuery(query);
  if (query.where?.some((condition) => condition.op === 'in' && condition.value.length === 0)) {
    return [];
  }

  const fastBatches = internalsOf(store).readPayloadRowBatches?.(query);
  const batches = fastBatches ?? readThroughKysely(store, query);
  return (await decryptBatches(store, query, batches)) as PayloadRow<C, P>[];
}

/** The rows through the store's Kysely instance, as one batch. */
async function* readThroughKysely(
  store: StateStore,
  query: PayloadRowQuery,
): AsyncGenerator<EncryptedRow[]> {
  const names = [...Object.keys(query.columns), query.payloadColumn];
  let select = store.db.selectFrom(query.table).select(names.map((name) => sql.ref(name).as(name)));
  for (const condition of query.where ?? []) {
    const column = sql.ref(condition.column);
    if (condition.op === 'is null' || condition.op === 'is not null') {
      select = select.where(column, condition.op === 'is null' ? 'is' : 'is not', null);
    } else {
      select = select.where(column, condition.op, condition.value);
    }
  }
  for (const order of query.orderBy ?? []) {
    select = select.orderBy(sql.ref(order.column), order.direction ?? 'asc');
  }
  if (query.limit !== undefined) select = select.limit(query.limit);

  const rows = await select.execute();
  const integers = columnsWhere(query, (type) => type.startsWith('integer'));
  const texts = columnsWhere(query, (type) => type.startsWith('text'));
  // Each value gets its declared type, as the PostgreSQL reader decodes them.
  for (const row of rows) {
    for (const name of integers) row[name] = row[name] === null ? null : Number(row[name]);
    for (const name of texts) row[name] = row[name] === null ? null : String(row[name]);
  }
  yield rows;
}

function columnsWhere(query: PayloadRowQuery, isChosen: (type: PlainColumnType) => boolean) {
  return Object.entries(query.columns)
    .filter(([, type]) => isChosen(type))
    .map(([name]) => name);
}

/**
 * Starts decrypting each batch as it arrives, without waiting for the one before, then puts the
 * plaintexts into the rows in order. Failures are looked at in order too, so the error is the
 * first undecryptable row's, whichever batch finished first.
 */
async function decryptBatches(
  store: StateStore,
  query: PayloadRowQuery,
  batches: AsyncIterable<EncryptedRow[]>,
): Promise<EncryptedRow[]> {
  const pending: { rows: EncryptedRow[]; plaintexts: Promise<Settled> }[] = [];
  for await (const rows of batches) {
    const payloads = rows.map((row) => encryptedPayloadOf(row, query));
    pending.push({ rows, plaintexts: settle(decryptPayloads(store, payloads)) });
  }

  const required = columnsWhere(query, (type) => !type.endsWith('| null'));
  const rows: EncryptedRow[] = [];
  for (const batch of pending) {
    const settled = await batch.plaintexts;
    if ('error' in settled) throw settled.error;
    batch.rows.forEach((row, index) => {
      row[query.payloadColumn] = settled.plaintexts[index];
      checkNulls(row, query, required);
      rows.push(row);
    });
  }
  return rows;
}

type Settled = { readonly plaintexts: Buffer[] } | { readonly error: unknown };

/** Holds a rejection as a value, so that a batch failing early is never an unhandled rejection. */
function settle(plaintexts: Promise<Buffer[]>): Promise<Settled> {
  return plaintexts.then(
    (values) => ({ plaintexts: values }),
    (error: unknown) => ({ error }),
  );
}

/** A NULL payload (the columns are NOT NULL, so only a damaged row has one) fails to decrypt. */
function encryptedPayloadOf(row: EncryptedRow, query: PayloadRowQuery): EncryptedPayload {
  const ciphertext = row[query.payloadColumn];
  return {
    ciphertext: Buffer.isBuffer(ciphertext) ? ciphertext : Buffer.alloc(0),
    address: {
      table: query.table,
      column: query.payloadColumn,
      rowId: String(row[query.idColumn]),
    },
  };
}

/** A NULL in a column declared without `| null` is a caller's wrong declaration, said plainly. */
function checkNulls(row: EncryptedRow, query: PayloadRowQuery, required: readonly string[]): void {
  for (const name of required) {
    if (row[name] !== null) continue;
    throw new SluiceError(
      'internal',
      `Column '${query.table}.${name}' of row '${String(row[query.idColumn])}' is NULL; ` +
        `declare it as '${query.columns[name]} | null' in the payload row query`,
    );
  }
}

const COMPARISONS: ReadonlySet<string> = new Set([
  '=',
  '<>',
  '<',
  '<=',
  '>',
  '>=',
  'in',
  'is null',
  'is not null',
]);
const DIRECTIONS: ReadonlySet<string> = new Set(['asc', 'desc']);

/**
 * Refuses names that are not plain identifiers, and operators, directions and values outside the
 * types, since callers in plain JavaScript are not held to them and the PostgreSQL reader writes
 * names and operators into the statement.
 */
function checkQuery(query: PayloadRowQuery): void {
  const names = [query.table, query.payloadColumn, ...Object.keys(query.columns)];
  for (const item of [...names, ...(query.where ?? []), ...(query.orderBy ?? [])]) {
    const name = typeof item === 'string' ? item : item.column;
    if (IDENTIFIER.test(name)) continue;
    throw new SluiceError(
      'internal',
      `'${name}' is not a lower-case SQL identifier; name tables and columns with lower-case ` +
        'letters, digits and underscores',
    );
  }
  if (!Object.hasOwn(query.columns, query.idColumn) || query.payloadColumn in query.columns) {
    throw new SluiceError(
      'internal',
      `The id column '${query.idColumn}' must be one of the plain columns of ` +
        `'${query.table}', and the payload column '${query.payloadColumn}' must not be`,
    );
  }
  checkOperators(query);
  checkValues(query);
}

function checkOperators(query: PayloadRowQuery): void {
  for (const condition of query.where ?? []) {
    if (COMPARISONS.has(condition.op)) continue;
    throw new SluiceError('internal', `'${condition.op}' is not a comparison payload reads know`);
  }
  for (const order of query.orderBy ?? []) {
    if (order.direction === undefined || DIRECTIONS.has(order.direction)) continue;
    throw new SluiceError('internal', `Order '${order.direction}' is neither 'asc' nor 'desc'`);
  }
}

function checkValues(query: PayloadRowQuery): void {
  if (query.limit !== undefined && !(Number.isSafeInteger(query.limit) && query.limit > 0)) {
    throw new SluiceError('internal', `The row limit must be a positive integer`);
  }
  for (const condition of query.where ?? []) {
    if (!('value' in condition)) continue;
    const values = Array.isArray(condition.value) ? condition.value : [condition.value];
    if (values.every((value) => typeof value === 'string' || Number.isSafeInteger(value))) continue;
    throw new SluiceError(
      'internal',
      `The condition on '${query.table}.${condition.column}' compares with a value that is ` +
        'neither text nor an integer; pass text or a safe integer',
    );
  }
}
