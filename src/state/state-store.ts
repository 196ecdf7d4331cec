import type { Kysely } from 'kysely';
import type {
  EncryptedColumn,
  KeyRing,
  Migration,
  PayloadCipher,
  StateBackend,
  StateLocation,
} from './state-types.js';

/**
 * The tables of the state store, as Kysely sees them. Each migration that adds a table adds its
 * row type here; code reads and writes them through `store.db` on either backend.
 */
export type StateDatabase = Record<string, Record<string, unknown>>;

/** An open state store on SQLite (whole file encrypted) or PostgreSQL. */
export type StateStore = {
  readonly backend: StateBackend;
  readonly location: StateLocation;
  readonly db: Kysely<StateDatabase>;
  readonly keyRing: KeyRing;
  readonly cipher: PayloadCipher;
  /** The highest applied migration, 0 for an empty database. */
  schemaVersion(): Promise<number>;
  /** Encrypted payload columns declared by the applied migrations. */
  encryptedColumns(): readonly EncryptedColumn[];
  /** The store's own tables (migrations' version table included), sorted. */
  tableNames(): Promise<readonly string[]>;
  close(): Promise<void>;
};

/** What opening a store needs. */
export type OpenStateOptions = {
  readonly location: StateLocation;
  readonly keyRing: KeyRing;
  /** The migrations this build knows, by version; defaults to the project's own list. */
  readonly migrations?: readonly Migration[];
  /**
   * Whether to apply pending migrations on open (under the migration lock). When false, a store
   * with pending migrations still opens, for `sluice state status`.
   */
  readonly shouldMigrate?: boolean;
  /** Called before the first pending migration runs; a rejection stops the migration. */
  readonly beforeMigrate?: (store: StateStore, pending: readonly Migration[]) => Promise<void>;
};
