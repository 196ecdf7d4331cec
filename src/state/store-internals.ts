import type { Kysely } from 'kysely';
import { SluiceError } from '../core/errors.js';
import type { EncryptedRow, PayloadRowQuery } from './payload-rows.js';
import type { StateDatabase, StateStore } from './state-store.js';

/**
 * What the state store's own modules (migrator, rekey, payload rows) need from an open store
 * beyond the public `StateStore`: a private connection holding the migration lock, on SQLite the
 * file's key, and on PostgreSQL a faster way to read payload columns.
 */

/** A write transaction on the migration connection, with the lock held. */
export type MigrationSession = {
  /** Runs `work` in one write transaction; rolls back when it throws. */
  transaction<T>(work: (db: Kysely<StateDatabase>) => Promise<T>): Promise<T>;
};

/** What a LISTEN subscription calls. */
export type NotificationHandlers = {
  readonly onMessage: (payload: string) => void;
  readonly onReconnect: () => void;
};

/** A LISTEN subscription; `close` ends its connection. */
export type NotificationSubscription = { close(): Promise<void> };

/**
 * A session advisory lock held on a connection of its own: the lock lasts as long as the session,
 * so the server frees it when the holder's process dies or its connection breaks.
 */
export type AdvisoryLockHold = {
  /** Resolves once the lock's connection is found broken; the lock is then no longer held. */
  readonly lost: Promise<void>;
  /** Asks the lock's connection whether it still answers; false once it is broken. */
  isAlive(): Promise<boolean>;
  /** Unlocks and closes the connection. */
  release(): Promise<void>;
};

/** The backend-specific parts behind a store. */
export type StoreInternals = {
  /**
   * Runs `work` on a private connection. PostgreSQL holds an advisory lock for the whole run;
   * on SQLite each transaction of the session takes the file's write lock (`BEGIN IMMEDIATE`).
   */
  withMigrationSession<T>(work: (session: MigrationSession) => Promise<T>): Promise<T>;
  /** Runs `work` in a write transaction on the store's own connection. */
  writeTransaction<T>(work: (db: Kysely<StateDatabase>) => Promise<T>): Promise<T>;
  /** SQLite only: re-encrypts the whole file with the key ring's active key, if it is not yet. */
  rekeyFile(): Promise<void>;
  /** SQLite only: the id of the key the file is encrypted with; undefined on PostgreSQL. */
  fileKeyId(): string | undefined;
  /**
   * PostgreSQL only: the rows of a checked payload query, in batches as they arrive, with plain
   * values typed as the query declares and payloads as raw ciphertext bytes. Without it,
   * `readPayloadRows` reads through Kysely.
   */
  readPayloadRowBatches?(query: PayloadRowQuery): AsyncIterable<EncryptedRow[]>;
  /**
   * PostgreSQL only: calls `onMessage` with the payload of every NOTIFY on `channel`, on a
   * connection of its own, until the returned subscription is closed. A broken connection is
   * opened again by itself; `onReconnect` is called then, since messages may have been missed.
   */
  listen?(channel: string, handlers: NotificationHandlers): Promise<NotificationSubscription>;
  /**
   * PostgreSQL only: takes the session advisory lock named `name` (per store schema) on a new
   * connection, without waiting; undefined when another session holds it.
   */
  tryAdvisoryLock?(name: string): Promise<AdvisoryLockHold | undefined>;
  /** Remembers the schema version after opening or migrating. */
  setKnownVersion(version: number): void;
};

/** An open backend, before `openStateStore` wraps it into a store. */
export type BackendConnection = Omit<StoreInternals, 'setKnownVersion'> & {
  readonly db: Kysely<StateDatabase>;
  close(): Promise<void>;
};

const internals = new WeakMap<StateStore, StoreInternals>();

/** Attaches the backend parts to a store; called once by the backend's opener. */
export function attachInternals(store: StateStore, parts: StoreInternals): void {
  internals.set(store, parts);
}

/** The backend parts of a store opened by `openStateStore`. */
export function internalsOf(store: StateStore): StoreInternals {
  const parts = internals.get(store);
  if (parts === undefined) {
    throw new SluiceError('internal', 'The state store was not opened by openStateStore');
  }
  return parts;
}
