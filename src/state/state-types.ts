import type { Kysely } from 'kysely';

/**
 * The shapes shared by the state store's parts: the store itself, its migrations, its key ring
 * and its payload cipher. Later issues add tables to `StateDatabase` through migrations.
 */

/** The two backends; one code path (Kysely) serves both. */
export type StateBackend = 'sqlite' | 'postgres';

/** A parsed state location: `sqlite:///abs/path/state.db` or `postgres://...`. */
export type StateLocation =
  | { readonly backend: 'sqlite'; readonly path: string }
  | { readonly backend: 'postgres'; readonly url: string; readonly schema: string };

/** One key of the key ring: an id (stored with each ciphertext) and 32 secret bytes. */
export type StateKey = { readonly id: string; readonly secret: Buffer };

/**
 * The keys that encrypt state: the active one writes, every one reads. Never stored in the
 * database.
 */
export type KeyRing = {
  readonly active: StateKey;
  readonly keys: ReadonlyMap<string, StateKey>;
};

/** Where a ciphertext lives; bound into it as associated data so it cannot move to another row. */
export type PayloadAddress = {
  readonly table: string;
  readonly column: string;
  readonly rowId: string;
};

/** Encrypts and decrypts payload columns with AES-256-GCM. */
export type PayloadCipher = {
  encrypt(plaintext: string | Buffer, address: PayloadAddress): Buffer;
  decrypt(ciphertext: Buffer, address: PayloadAddress): Buffer;
  decryptText(ciphertext: Buffer, address: PayloadAddress): string;
  /** The id of the key a ciphertext was written with, read from its header. */
  keyIdOf(ciphertext: Buffer): string;
  /**
   * Decrypts many payloads in order, in one native call per key when the batch opener is built
   * (`hasBatchOpener`), else one by one. Fails as `decrypt` does, for the first bad payload in
   * order. The plaintexts of a native batch are views of one buffer.
   */
  decryptAll(payloads: readonly EncryptedPayload[]): Buffer[];
  /** Whether `decryptAll` opens batches natively. */
  readonly hasBatchOpener: boolean;
};

/** One payload to decrypt, with the address it was written for. */
export type EncryptedPayload = {
  readonly ciphertext: Buffer;
  readonly address: PayloadAddress;
};

/** A column whose values are encrypted payloads, so that `rekey` can find and rewrap them. */
export type EncryptedColumn = {
  readonly table: string;
  readonly column: string;
  /** The column that identifies the row; its value is the `rowId` of the payload's address. */
  readonly idColumn: string;
};

/** A numbered, forward-only schema change; each runs in its own transaction. */
export type Migration = {
  readonly version: number;
  readonly name: string;
  readonly encryptedColumns?: readonly EncryptedColumn[];
  up(db: Kysely<unknown>, backend: StateBackend): Promise<void>;
};
