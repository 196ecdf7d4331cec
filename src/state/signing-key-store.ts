import { SluiceError } from '../core/errors.js';
import type { StateStore } from './state-store.js';
import type { PayloadAddress } from './state-types.js';

/**
 * The keys that sign access tokens. The public half is stored plain (it is published as JWKS);
 * the private half is an encrypted payload bound to its key id, so a database dump cannot sign
 * tokens and `rekey` rewraps it with the rest. A key is retired when a newer one takes over
 * signing; it stays published until tokens it signed have expired, then it is deleted.
 */

const SIGNING_KEYS_TABLE = 'sluice_signing_keys';

/** The public parts of a signing key. */
export type StoredSigningKey = {
  readonly kid: string;
  readonly algorithm: string;
  readonly publicJwk: Record<string, unknown>;
  readonly createdAt: string;
  readonly retiredAt: string | null;
};

/** A new signing key, both halves as JWKs. */
export type NewSigningKey = {
  readonly kid: string;
  readonly algorithm: string;
  readonly publicJwk: Record<string, unknown>;
  readonly privateJwk: Record<string, unknown>;
  readonly createdAt: string;
};

/** Stores a new key, its private half encrypted. */
export async function insertSigningKey(store: StateStore, key: NewSigningKey): Promise<void> {
  const privateJwk = store.cipher.encrypt(JSON.stringify(key.privateJwk), addressOf(key.kid));

  await store.db
    .insertInto(SIGNING_KEYS_TABLE)
    .values({
      kid: key.kid,
      algorithm: key.algorithm,
      public_jwk: JSON.stringify(key.publicJwk),
      private_jwk: privateJwk,
      created_at: key.createdAt,
      retired_at: null,
    })
    .execute();
}

/** Public parts of every key, newest first. */
export async function listSigningKeys(store: StateStore): Promise<StoredSigningKey[]> {
  const rows = await store.db
    .selectFrom(SIGNING_KEYS_TABLE)
    .select(['kid', 'algorithm', 'public_jwk', 'created_at', 'retired_at'])
    .orderBy('created_at', 'desc')
    .orderBy('kid', 'desc')
    .execute();

  return rows.map((row) => ({
    kid: String(row.kid),
    algorithm: String(row.algorithm),
    publicJwk: JSON.parse(String(row.public_jwk)) as Record<string, unknown>,
    createdAt: String(row.created_at),
    retiredAt:
      row.retired_at === null || row.retired_at === undefined ? null : String(row.retired_at),
  }));
}

/** The private JWK of one key, decrypted (bound to its kid). */
export async function readPrivateSigningKey(
  store: StateStore,
  kid: string,
): Promise<Record<string, unknown>> {
  const row = await store.db
    .selectFrom(SIGNING_KEYS_TABLE)
    .select('private_jwk')
    .where('kid', '=', kid)
    .executeTakeFirst();
  if (row === undefined) {
    throw new SluiceError(
      'state_error',
      `The signing key '${kid}' is not in the state store; it was deleted after it retired, ` +
        'so sign with the newest key instead',
    );
  }

  const plaintext = store.cipher.decryptText(row.private_jwk as Buffer, addressOf(kid));
  return JSON.parse(plaintext) as Record<string, unknown>;
}

/** Sets retired_at on every key not yet retired, except `exceptKid`. */
export async function retireSigningKeys(
  store: StateStore,
  exceptKid: string,
  retiredAt: string,
): Promise<void> {
  await store.db
    .updateTable(SIGNING_KEYS_TABLE)
    .set({ retired_at: retiredAt })
    .where('retired_at', 'is', null)
    .where('kid', '!=', exceptKid)
    .execute();
}

/**
 * Deletes the keys retired before `before` and returns how many. Times compare as text, which
 * orders correctly because every time in the store is written by `Date.toISOString()`.
 */
export async function deleteSigningKeysRetiredBefore(
  store: StateStore,
  before: string,
): Promise<number> {
  const result = await store.db
    .deleteFrom(SIGNING_KEYS_TABLE)
    .where('retired_at', 'is not', null)
    .where('retired_at', '<', before)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

function addressOf(kid: string): PayloadAddress {
  return { table: SIGNING_KEYS_TABLE, column: 'private_jwk', rowId: kid };
}
