import { createBackup, verifyBackup } from './backup/backup.js';
import { openStateStore } from './open-state-store.js';
import type { StateStore } from './state-store.js';
import type { KeyRing, Migration, StateLocation } from './state-types.js';

export type OpenStateWithBackupsOptions = {
  readonly location: StateLocation;
  readonly keyRing: KeyRing;
  readonly backupDir: string;
  readonly shouldMigrate: boolean;
  /** The migrations this build knows; defaults to the project's own list. */
  readonly migrations?: readonly Migration[];
  /** Told where the pre-migration backup went, for the caller to report. */
  readonly onBackup?: (path: string, pending: readonly Migration[]) => void;
};

/**
 * Opens the state store the way every Sluice process should: before the first pending migration
 * runs, a backup is written and verified, and a failure of either stops the migration. A store
 * with no schema yet has nothing to back up.
 */
export function openState(options: OpenStateWithBackupsOptions): Promise<StateStore> {
  return openStateStore({
    location: options.location,
    keyRing: options.keyRing,
    shouldMigrate: options.shouldMigrate,
    ...(options.migrations === undefined ? {} : { migrations: options.migrations }),
    beforeMigrate: async (store, pending) => {
      if ((await store.schemaVersion()) === 0) return;
      const backup = await createBackup(store, { dir: options.backupDir, reason: 'pre-migration' });
      await verifyBackup(backup.path, options.keyRing);
      options.onBackup?.(backup.path, pending);
    },
  });
}
