import { SluiceError } from '../core/errors.js';
import { decryptPayloadTexts } from './payload-decryption.js';
import { newRowId } from './row-id.js';
import type { StateStore } from './state-store.js';
import type { PayloadAddress } from './state-types.js';

/**
 * The audit log: who did what to which subject, and when. Actor, action and subject stay plain
 * so that entries can be listed and filtered; the details are encrypted, bound to their row.
 */

/** The audit log's table. */
export const AUDIT_LOG_TABLE = 'sluice_audit_log';

/** What the caller records. */
export type AuditEntryInput = {
  readonly actor: string;
  readonly action: string;
  readonly subject: string;
  /** Any JSON value object; stored encrypted. */
  readonly details: Readonly<Record<string, unknown>>;
};

/** A recorded entry; ids sort by the time they were written. */
export type AuditEntry = AuditEntryInput & {
  readonly id: string;
  /** ISO 8601, UTC. */
  readonly occurredAt: string;
};

/** Which entries to read: up to `limit`, oldest first, after the entry with id `after`. */
export type AuditQuery = { readonly limit: number; readonly after?: string };

/** Appends an entry, encrypting its details. */
export async function appendAuditEntry(
  store: StateStore,
  input: AuditEntryInput,
): Promise<AuditEntry> {
  const id = newRowId();
  const occurredAt = new Date().toISOString();
  const details = store.cipher.encrypt(JSON.stringify(input.details), addressOf(id));

  await store.db
    .insertInto(AUDIT_LOG_TABLE)
    .values({
      id,
      occurred_at: occurredAt,
      actor: input.actor,
      action: input.action,
      subject: input.subject,
      details,
    })
    .execute();
  return { ...input, id, occurredAt };
}

/** Reads entries oldest first, decrypting their details through the bulk read path. */
export async function readAuditEntries(
  store: StateStore,
  query: AuditQuery,
): Promise<AuditEntry[]> {
  if (!Number.isInteger(query.limit) || query.limit < 1) {
    throw new SluiceError('usage', `The audit log limit must be a positive integer`);
  }

  let select = store.db
    .selectFrom(AUDIT_LOG_TABLE)
    .select(['id', 'occurred_at', 'actor', 'action', 'subject', 'details'])
    .orderBy('id')
    .limit(query.limit);
  if (query.after !== undefined) select = select.where('id', '>', query.after);

  const rows = await select.execute();
  const details = await decryptPayloadTexts(
    store,
    rows.map((row) => ({ ciphertext: row.details as Buffer, address: addressOf(String(row.id)) })),
  );
  return rows.map((row, index) => ({
    id: String(row.id),
    occurredAt: String(row.occurred_at),
    actor: String(row.actor),
    action: String(row.action),
    subject: String(row.subject),
    details: JSON.parse(String(details[index])),
  }));
}

function addressOf(rowId: string): PayloadAddress {
  return { table: AUDIT_LOG_TABLE, column: 'details', rowId };
}
