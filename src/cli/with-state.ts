import { openState } from '../state/open-state.js';
import type { StateStore } from '../state/state-store.js';
import type { CommandContext } from './output.js';
import { resolveStateContext, type StateCliOptions, type StateContext } from './state-context.js';

/** Opens the store for a command; `shouldMigrate` applies pending migrations after a backup. */
export function openStore(state: StateContext, context: CommandContext, shouldMigrate: boolean) {
  return openState({
    location: state.location,
    keyRing: state.keyRing,
    backupDir: state.backupDir,
    shouldMigrate,
    onBackup: (path, pending) => {
      context.logger.info({ path, pending: pending.length }, 'pre-migration backup');
      context.output.stderr.write(`Backed up the state before migrating: ${path}\n`);
    },
  });
}

/** Opens the project's state store for `work` and always closes it. */
export async function withStore<T>(
  context: CommandContext,
  options: StateCliOptions,
  shouldMigrate: boolean,
  work: (store: StateStore, state: StateContext) => Promise<T>,
): Promise<T> {
  const state = await resolveStateContext(context.projectDir, options);
  const store = await openStore(state, context, shouldMigrate);
  try {
    return await work(store, state);
  } finally {
    await store.close();
  }
}
