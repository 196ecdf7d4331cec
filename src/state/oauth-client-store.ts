import type { Kysely } from 'kysely';
import { SluiceError } from '../core/errors.js';
import { type AuditEntryInput, appendAuditEntryIn } from './audit-log.js';
import type { StateDatabase, StateStore } from './state-store.js';
import { internalsOf } from './store-internals.js';

/**
 * OAuth clients in the state store: each has roles and up to two secrets, stored only as slow
 * hashes made by the caller. While a secret rotates, the previous one keeps working until its
 * grace period ends. A revoked client keeps its row (its id is never reused) and loses its
 * secrets; verifiers read the revoked ids to refuse tokens issued before the revocation.
 */

const CLIENTS_TABLE = 'sluice_oauth_clients';
const SECRETS_TABLE = 'sluice_oauth_client_secrets';

/** One secret of a client: an encoded slow hash, not the secret. */
export type StoredClientSecret = {
  readonly id: string;
  readonly hash: string;
  readonly createdAt: string;
  readonly expiresAt: string | null;
};

/** A client as stored; its secrets oldest first. */
export type StoredClient = {
  readonly clientId: string;
  readonly roles: readonly string[];
  readonly createdAt: string;
  readonly revokedAt: string | null;
  readonly secrets: readonly StoredClientSecret[];
};

/** A new client with its first secret. */
export type NewClient = {
  readonly clientId: string;
  readonly roles: readonly string[];
  readonly createdAt: string;
  readonly secret: { readonly id: string; readonly hash: string };
  /** The audit entry recording the change, written in the same transaction. */
  readonly audit?: AuditEntryInput;
};

/** A new secret for a client, and until when the previous one stays valid. */
export type SecretChange = {
  readonly clientId: string;
  readonly secret: { readonly id: string; readonly hash: string };
  readonly now: string;
  readonly graceEndsAt: string;
  /** The audit entry recording the change, written in the same transaction. */
  readonly audit?: AuditEntryInput;
};

type Db = Kysely<StateDatabase>;

/**
 * Inserts a client with its first secret; SluiceError 'client_exists' if the id is taken
 * (revoked ids stay taken).
 */
export async function insertClient(store: StateStore, client: NewClient): Promise<StoredClient> {
  checkRoles(client.roles);

  return internalsOf(store).writeTransaction(async (db) => {
    const inserted = await db
      .insertInto(CLIENTS_TABLE)
      .values({
        client_id: client.clientId,
        roles: client.roles.join(','),
        created_at: client.createdAt,
        revoked_at: null,
      })
      .onConflict((conflict) => conflict.column('client_id').doNothing())
      .executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) === 0) throw clientExists(client.clientId);

    await insertSecret(db, client.clientId, client.secret, client.createdAt);
    if (client.audit !== undefined) await appendAuditEntryIn(store, db, client.audit);
    return requireClient(db, client.clientId);
  });
}

/** The client with its secrets, or undefined when there is none of that id. */
export function readClient(store: StateStore, clientId: string): Promise<StoredClient | undefined> {
  return readClientWith(store.db, clientId);
}

/** Every client, revoked ones included, by client id. */
export async function listClients(store: StateStore): Promise<StoredClient[]> {
  const clients = await store.db
    .selectFrom(CLIENTS_TABLE)
    .selectAll()
    .orderBy('client_id')
    .execute();
  const secrets = await store.db
    .selectFrom(SECRETS_TABLE)
    .selectAll()
    .orderBy('client_id')
    .orderBy('created_at')
    .orderBy('id')
    .execute();

  return clients.map((row) =>
    clientOf(
      row,
      secrets.filter((secret) => secret.client_id === row.client_id),
    ),
  );
}

/**
 * Adds a new secret in one transaction: secrets already expired at `now` are deleted; if two
 * unexpired secrets remain, the older is deleted; the remaining previous one gets
 * expiresAt = min(its expiresAt, graceEndsAt). Returns the client after. 'client_not_found' if
 * missing; SluiceError 'usage' if revoked.
 */
export async function addClientSecret(
  store: StateStore,
  change: SecretChange,
): Promise<StoredClient> {
  return internalsOf(store).writeTransaction(async (db) => {
    const client = await lockClient(store, db, change.clientId);
    if (client.revokedAt !== null) {
      throw new SluiceError(
        'usage',
        `Client '${change.clientId}' is revoked, so it cannot get a new secret; create a new ` +
          'client instead',
      );
    }

    const nowMs = Date.parse(change.now);
    const unexpired = client.secrets.filter((secret) => !isExpiredAt(secret, nowMs));
    const previous = unexpired.at(-1);
    const dropped = client.secrets.filter((secret) => secret !== previous);
    if (dropped.length > 0) {
      await db
        .deleteFrom(SECRETS_TABLE)
        .where(
          'id',
          'in',
          dropped.map((secret) => secret.id),
        )
        .execute();
    }

    if (previous !== undefined) {
      await db
        .updateTable(SECRETS_TABLE)
        .set({ expires_at: earlierOf(previous.expiresAt, change.graceEndsAt) })
        .where('id', '=', previous.id)
        .execute();
    }
    await insertSecret(db, change.clientId, change.secret, change.now);
    if (change.audit !== undefined) await appendAuditEntryIn(store, db, change.audit);
    return requireClient(db, change.clientId);
  });
}

/** Sets revoked_at (idempotent: a second call keeps the first time) and deletes its secrets. */
export async function revokeClient(
  store: StateStore,
  clientId: string,
  revokedAt: string,
  audit?: AuditEntryInput,
): Promise<StoredClient> {
  return internalsOf(store).writeTransaction(async (db) => {
    await lockClient(store, db, clientId);

    await db
      .updateTable(CLIENTS_TABLE)
      .set({ revoked_at: revokedAt })
      .where('client_id', '=', clientId)
      .where('revoked_at', 'is', null)
      .execute();
    await db.deleteFrom(SECRETS_TABLE).where('client_id', '=', clientId).execute();
    if (audit !== undefined) await appendAuditEntryIn(store, db, audit);
    return requireClient(db, clientId);
  });
}

/** Ids of revoked clients, for the revocation list every verifier refreshes. */
export async function listRevokedClientIds(store: StateStore): Promise<string[]> {
  const rows = await store.db
    .selectFrom(CLIENTS_TABLE)
    .select('client_id')
    .where('revoked_at', 'is not', null)
    .orderBy('client_id')
    .execute();
  return rows.map((row) => String(row.client_id));
}

/**
 * Whether any unrevoked client holds `role` (the bootstrap command refuses when an admin exists).
 */
export async function hasActiveClientWithRole(store: StateStore, role: string): Promise<boolean> {
  const rows = await store.db
    .selectFrom(CLIENTS_TABLE)
    .select('roles')
    .where('revoked_at', 'is', null)
    .execute();
  return rows.some((row) => rolesOf(row.roles).includes(role));
}

async function readClientWith(db: Db, clientId: string): Promise<StoredClient | undefined> {
  const row = await db
    .selectFrom(CLIENTS_TABLE)
    .selectAll()
    .where('client_id', '=', clientId)
    .executeTakeFirst();
  if (row === undefined) return undefined;

  const secrets = await db
    .selectFrom(SECRETS_TABLE)
    .selectAll()
    .where('client_id', '=', clientId)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  return clientOf(row, secrets);
}

/** Reads the client inside a write transaction, its row locked on PostgreSQL. */
async function lockClient(store: StateStore, db: Db, clientId: string): Promise<StoredClient> {
  await db
    .selectFrom(CLIENTS_TABLE)
    .select('client_id')
    .where('client_id', '=', clientId)
    .$if(store.backend === 'postgres', (query) => query.forUpdate())
    .executeTakeFirst();
  return requireClient(db, clientId);
}

async function requireClient(db: Db, clientId: string): Promise<StoredClient> {
  const client = await readClientWith(db, clientId);
  if (client === undefined) {
    throw new SluiceError(
      'client_not_found',
      `There is no OAuth client '${clientId}'; list the clients with 'sluice clients list'`,
    );
  }
  return client;
}

async function insertSecret(
  db: Db,
  clientId: string,
  secret: { readonly id: string; readonly hash: string },
  createdAt: string,
): Promise<void> {
  await db
    .insertInto(SECRETS_TABLE)
    .values({
      id: secret.id,
      client_id: clientId,
      hash: secret.hash,
      created_at: createdAt,
      expires_at: null,
    })
    .execute();
}

function checkRoles(roles: readonly string[]): void {
  const bad = roles.find((role) => role === '' || role.includes(','));
  if (roles.length === 0 || bad !== undefined) {
    throw new SluiceError(
      'usage',
      roles.length === 0
        ? 'An OAuth client needs at least one role; pass --role'
        : `The role '${bad}' is not a role name; role names are not empty and hold no comma`,
    );
  }
}

function clientExists(clientId: string): SluiceError {
  return new SluiceError(
    'client_exists',
    `An OAuth client '${clientId}' already exists (ids of revoked clients stay taken); choose ` +
      'another name',
  );
}

function isExpiredAt(secret: StoredClientSecret, nowMs: number): boolean {
  return secret.expiresAt !== null && Date.parse(secret.expiresAt) <= nowMs;
}

function earlierOf(expiresAt: string | null, graceEndsAt: string): string {
  if (expiresAt === null) return graceEndsAt;
  return Date.parse(expiresAt) <= Date.parse(graceEndsAt) ? expiresAt : graceEndsAt;
}

function clientOf(row: Record<string, unknown>, secrets: Record<string, unknown>[]): StoredClient {
  return {
    clientId: String(row.client_id),
    roles: rolesOf(row.roles),
    createdAt: String(row.created_at),
    revokedAt: optionalText(row.revoked_at),
    secrets: secrets.map((secret) => ({
      id: String(secret.id),
      hash: String(secret.hash),
      createdAt: String(secret.created_at),
      expiresAt: optionalText(secret.expires_at),
    })),
  };
}

function rolesOf(value: unknown): string[] {
  return String(value)
    .split(',')
    .filter((role) => role !== '');
}

function optionalText(value: unknown): string | null {
  return value === null || value === undefined ? null : String(value);
}
