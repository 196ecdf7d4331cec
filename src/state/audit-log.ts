import { createHash, randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Kysely } from 'kysely';
import { SluiceError } from '../core/errors.js';
import { readPayloadRows } from './payload-rows.js';
import { newRowId } from './row-id.js';
import type { StateDatabase, StateStore } from './state-store.js';
import type { PayloadAddress } from './state-types.js';

/**
 * The audit log: who did what to which subject, and when. Actor, action and subject stay plain
 * so that entries can be listed and filtered; the details are encrypted, bound to their row.
 *
 * Entries are numbered 1, 2, 3... (`seq`) and hash-chained: each entry's hash covers its fields,
 * its details and the hash of the entry before, so an entry that is edited or removed is found
 * by `verifyAuditChain` (audit-chain.ts). A random salt inside the encrypted payload enters the
 * hash, so the plain hash column cannot be used to guess details of low entropy. Entries written
 * before schema version 5 are numbered but unchained (see migrations/005-auth.ts).
 */

/** The audit log's table. */
export const AUDIT_LOG_TABLE = 'sluice_audit_log';

/** The `sluice_store_info` key holding the first chained sequence number. */
export const AUDIT_CHAIN_START_KEY = 'audit_chain_start_seq';

/** What the caller records. */
export type AuditEntryInput = {
  readonly actor: string;
  readonly action: string;
  readonly subject: string;
  /** Any JSON value object; stored encrypted. */
  readonly details: Readonly<Record<string, unknown>>;
};

/** A recorded entry; `seq` orders the log, ids also sort by the time they were written. */
export type AuditEntry = AuditEntryInput & {
  readonly id: string;
  /** ISO 8601, UTC. */
  readonly occurredAt: string;
  /** The entry's place in the log, from 1 without gaps. */
  readonly seq: number;
  /** Hex SHA-256 of the entry and the hash before it; null for an entry from before the chain. */
  readonly hash: string | null;
};

/** Which entries to read: up to `limit`, oldest first, after sequence number `after`. */
export type AuditQuery = { readonly limit: number; readonly after?: number };

/** A stored row, its details still encrypted; what the chain check reads. */
export type AuditRow = Omit<AuditEntry, 'details'> & {
  readonly prevHash: string | null;
  readonly ciphertext: Buffer;
};

/** A chained entry's payload: the salt that enters its hash, and the details. */
export type ChainedDetails = {
  readonly salt: string;
  readonly details: Record<string, unknown>;
};

/** Everything an entry's hash covers. */
export type AuditHashInput = {
  readonly prevHash: string | null;
  readonly seq: number;
  readonly id: string;
  readonly occurredAt: string;
  readonly actor: string;
  readonly action: string;
  readonly subject: string;
  readonly salt: string;
  readonly details: unknown;
};

/** Appenders that lose the race for a sequence number this many times in a row give up. */
const MAX_APPEND_ATTEMPTS = 20;
const SALT_BYTES = 16;

/** Appends of one store run one after another; see `appendAuditEntry`. */
const appendQueues = new WeakMap<StateStore, Promise<unknown>>();

/**
 * Appends an entry after the current last one, encrypting its details. Another process may take
 * the same sequence number first (the unique index refuses the second); the loser reads the new
 * last entry and tries again, which needs no lock on either backend. Appends through one store
 * are queued, so only appenders in other processes ever race.
 */
export function appendAuditEntry(store: StateStore, input: AuditEntryInput): Promise<AuditEntry> {
  const previous = appendQueues.get(store) ?? Promise.resolve();
  const appended = previous.then(() => appendWithRetry(store, store.db, input));
  appendQueues.set(
    store,
    appended.catch(() => undefined),
  );
  return appended;
}

/**
 * Appends an entry inside a write transaction the caller holds (`db`), so that the change it
 * records and the entry commit together or not at all.
 */
export function appendAuditEntryIn(
  store: StateStore,
  db: Kysely<StateDatabase>,
  input: AuditEntryInput,
): Promise<AuditEntry> {
  return appendWithRetry(store, db, input);
}

/** Reads entries oldest first, decrypting their details through the bulk read path. */
export async function readAuditEntries(
  store: StateStore,
  query: AuditQuery,
): Promise<AuditEntry[]> {
  checkQuery(query);
  const rows = await readPayloadRows(store, {
    table: AUDIT_LOG_TABLE,
    columns: {
      seq: 'integer',
      id: 'text',
      occurred_at: 'text',
      actor: 'text',
      action: 'text',
      subject: 'text',
      entry_hash: 'text | null',
    },
    idColumn: 'id',
    payloadColumn: 'details',
    // `seq > after` also leaves out rows without a seq; `is not null` rather than `seq > 0`,
    // which made PostgreSQL sort a freshly filled table instead of using the seq index.
    where: [
      query.after === undefined
        ? { column: 'seq', op: 'is not null' }
        : { column: 'seq', op: '>', value: query.after },
    ],
    orderBy: [{ column: 'seq' }],
    limit: query.limit,
  });
  const chainStart = await readAuditChainStart(store);

  return rows.map((row) => {
    const { seq, id, actor, action, subject } = row;
    const fields = { id, seq, occurredAt: row.occurred_at, actor, action, subject };
    const hash = row.entry_hash;
    const decoded = decodeAuditDetails(
      row.details.toString('utf8'),
      isChainedRow({ seq, hash }, chainStart),
    );
    if (decoded === undefined) {
      throw new SluiceError(
        'audit_chain_broken',
        `Audit entry ${row.seq} holds details in a form Sluice does not write, so it was ` +
          "altered; run 'sluice audit-log verify' and restore the state from a backup",
      );
    }
    return { ...fields, hash, details: decoded.details };
  });
}

/** Reads stored rows oldest first, without decrypting them. */
export async function readAuditRows(store: StateStore, query: AuditQuery): Promise<AuditRow[]> {
  checkQuery(query);

  const rows = await store.db
    .selectFrom(AUDIT_LOG_TABLE)
    .select(['id', 'seq', 'occurred_at', 'actor', 'action', 'subject', 'details'])
    .select(['prev_hash', 'entry_hash'])
    .where('seq', 'is not', null)
    .$if(query.after !== undefined, (select) => select.where('seq', '>', query.after))
    .orderBy('seq')
    .limit(query.limit)
    .execute();
  return rows.map((row) => ({
    id: String(row.id),
    seq: Number(row.seq),
    occurredAt: String(row.occurred_at),
    actor: String(row.actor),
    action: String(row.action),
    subject: String(row.subject),
    prevHash: optionalText(row.prev_hash),
    hash: optionalText(row.entry_hash),
    ciphertext: row.details as Buffer,
  }));
}

/** The first chained sequence number (1 for a store created at schema version 5 or later). */
export async function readAuditChainStart(store: StateStore): Promise<number> {
  const row = await store.db
    .selectFrom('sluice_store_info')
    .select('value')
    .where('key', '=', AUDIT_CHAIN_START_KEY)
    .executeTakeFirst();
  const start = Number(row?.value ?? 1);
  return Number.isInteger(start) && start >= 1 ? start : 1;
}

/**
 * Whether a row belongs to the chain: every row from the chain start on, and any row that has a
 * hash (so that moving the recorded start forward does not exempt chained rows from the check).
 */
export function isChainedRow(row: Pick<AuditRow, 'seq' | 'hash'>, chainStart: number): boolean {
  return row.seq >= chainStart || row.hash !== null;
}

/** Parses a decrypted payload: plain details before the chain, salt and details in it. */
export function decodeAuditDetails(
  plaintext: string,
  isChained: boolean,
): { readonly salt: string | null; readonly details: Record<string, unknown> } | undefined {
  const parsed = parseJson(plaintext);
  if (!isChained) return isObject(parsed) ? { salt: null, details: parsed } : undefined;

  if (!isObject(parsed) || typeof parsed.salt !== 'string' || !isObject(parsed.details)) {
    return undefined;
  }
  return { salt: parsed.salt, details: parsed.details };
}

/** The hex SHA-256 of an entry's canonical encoding (object keys sorted, no spaces). */
export function auditEntryHash(input: AuditHashInput): string {
  const encoded = canonicalJson({
    prev_hash: input.prevHash,
    seq: input.seq,
    id: input.id,
    occurred_at: input.occurredAt,
    actor: input.actor,
    action: input.action,
    subject: input.subject,
    salt: input.salt,
    details: input.details,
  });
  return createHash('sha256').update(encoded, 'utf8').digest('hex');
}

/** Where an entry's details are encrypted; bound into the ciphertext. */
export function auditDetailsAddress(rowId: string): PayloadAddress {
  return { table: AUDIT_LOG_TABLE, column: 'details', rowId };
}

async function appendWithRetry(
  store: StateStore,
  db: Kysely<StateDatabase>,
  input: AuditEntryInput,
): Promise<AuditEntry> {
  // Hashed as stored: a JSON round trip drops what JSON cannot hold (undefined members).
  const details = JSON.parse(JSON.stringify(input.details)) as Record<string, unknown>;

  for (let attempt = 1; ; attempt++) {
    const head = await readHead(db);
    const salt = randomBytes(SALT_BYTES).toString('base64');
    const fields = {
      id: newRowId(),
      seq: (head?.seq ?? 0) + 1,
      occurredAt: new Date().toISOString(),
      actor: input.actor,
      action: input.action,
      subject: input.subject,
    };
    const prevHash = head?.hash ?? null;
    const hash = auditEntryHash({ ...fields, prevHash, salt, details });

    const isInserted = await tryInsert(store, db, fields, prevHash, hash, { salt, details });
    if (isInserted) return { ...fields, hash, details };

    if (attempt >= MAX_APPEND_ATTEMPTS) throw contended();
    // Appenders that collided spread out before reading the new last entry again.
    await sleep(Math.random() * attempt * 2);
  }
}

/** Inserts unless the sequence number was taken meanwhile; returns whether it was inserted. */
async function tryInsert(
  store: StateStore,
  db: Kysely<StateDatabase>,
  fields: Omit<AuditEntry, 'details' | 'hash'>,
  prevHash: string | null,
  hash: string,
  payload: ChainedDetails,
): Promise<boolean> {
  const ciphertext = store.cipher.encrypt(JSON.stringify(payload), auditDetailsAddress(fields.id));
  const result = await db
    .insertInto(AUDIT_LOG_TABLE)
    .values({
      id: fields.id,
      seq: fields.seq,
      occurred_at: fields.occurredAt,
      actor: fields.actor,
      action: fields.action,
      subject: fields.subject,
      details: ciphertext,
      prev_hash: prevHash,
      entry_hash: hash,
    })
    .onConflict((conflict) => conflict.column('seq').doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
}

async function readHead(
  db: Kysely<StateDatabase>,
): Promise<{ seq: number; hash: string | null } | undefined> {
  const row = await db
    .selectFrom(AUDIT_LOG_TABLE)
    .select(['seq', 'entry_hash'])
    .where('seq', 'is not', null)
    .orderBy('seq', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row === undefined
    ? undefined
    : { seq: Number(row.seq), hash: optionalText(row.entry_hash) };
}

function checkQuery(query: AuditQuery): void {
  if (!Number.isInteger(query.limit) || query.limit < 1) {
    throw new SluiceError('usage', 'The audit log limit must be a positive integer');
  }
  if (query.after !== undefined && (!Number.isInteger(query.after) || query.after < 0)) {
    throw new SluiceError(
      'usage',
      'The audit log position to read after must be a sequence number (0 or more)',
    );
  }
}

function contended(): SluiceError {
  return new SluiceError(
    'state_error',
    `The audit log entry could not be appended: other writers took the next place ` +
      `${MAX_APPEND_ATTEMPTS} times in a row; try again`,
    { retryable: true },
  );
}

/** JSON with object keys sorted at every level, so that equal values encode to equal bytes. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (isObject(value)) {
    const members = Object.keys(value)
      .filter((key) => value[key] !== undefined)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key])}`);
    return `{${members.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optionalText(value: unknown): string | null {
  return value === null || value === undefined ? null : String(value);
}
