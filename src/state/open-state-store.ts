import { createPayloadCipher } from './crypto/payload-cipher.js';
import { STATE_MIGRATIONS } from './migrations/index.js';
import { checkStoreVersion, migrateStore, orderMigrations } from './migrator.js';
import { closePayloadDecryption } from './payload-decryption.js';
import { openPostgresBackend } from './postgres/postgres-backend.js';
import { openSqliteBackend } from './sqlite/sqlite-backend.js';
import { listStateTables } from './state-catalog.js';
import type { OpenStateOptions, StateStore } from './state-store.js';
import type { Migration } from './state-types.js';
import { attachInternals, type BackendConnection } from './store-internals.js';
import { readAppliedMigrations } from './version-table.js';

/** Options of `openStateStore`: the shared ones, plus where the key ring came from. */
export type OpenStateStoreOptions = OpenStateOptions & {
  /** Names the key ring's origin in messages, such as 'SLUICE_STATE_KEYS'; never its content. */
  readonly keySource?: string;
};

const DEFAULT_KEY_SOURCE = 'the key ring';

/**
 * Opens the state store, applies pending migrations when asked, and refuses a database newer
 * than this build (`state_too_new`). A wrong key is `state_key_invalid`, never an empty store.
 */
export async function openStateStore(options: OpenStateStoreOptions): Promise<StateStore> {
  const migrations = orderMigrations(options.migrations ?? STATE_MIGRATIONS);
  const connection = await openBackend(options);
  const store = assembleStore(connection, options, migrations);

  try {
    if (options.shouldMigrate === true) {
      await migrateStore(store, migrations, options.beforeMigrate);
    } else {
      await checkStoreVersion(store, migrations);
    }
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}

function openBackend(options: OpenStateStoreOptions): Promise<BackendConnection> {
  const location = options.location;
  if (location.backend === 'postgres') return openPostgresBackend(location);
  return openSqliteBackend(location.path, options.keyRing, options.keySource ?? DEFAULT_KEY_SOURCE);
}

function assembleStore(
  connection: BackendConnection,
  options: OpenStateStoreOptions,
  migrations: readonly Migration[],
): StateStore {
  const { location, keyRing } = options;
  const { db } = connection;
  let knownVersion = 0;
  let closing: Promise<void> | undefined;

  const store: StateStore = {
    backend: location.backend,
    location,
    db,
    keyRing,
    cipher: createPayloadCipher(keyRing),
    schemaVersion: async () => {
      const applied = await readAppliedMigrations(db, location.backend);
      return applied.reduce((highest, row) => Math.max(highest, row.version), 0);
    },
    encryptedColumns: () =>
      migrations
        .filter((migration) => migration.version <= knownVersion)
        .flatMap((migration) => migration.encryptedColumns ?? []),
    tableNames: () => listStateTables(db, location.backend),
    close: () => {
      closing ??= Promise.all([closePayloadDecryption(store), connection.close()]).then(
        () => undefined,
      );
      return closing;
    },
  };

  attachInternals(store, {
    ...connection,
    setKnownVersion: (version) => {
      knownVersion = version;
    },
  });
  return store;
}
