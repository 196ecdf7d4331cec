import { afterEach } from 'vitest';
import { openStateStore } from '../../src/state/open-state-store.js';
import type { StateStore } from '../../src/state/state-store.js';
import type { KeyRing } from '../../src/state/state-types.js';
import type { StateBackendUnderTest, TestStateLocation } from './state-backends.js';

/**
 * For a suite of store tests: a function that opens a new, migrated store on `backend` with
 * `ring`, and an `afterEach` that closes it and removes its file or schema.
 */
export function freshStores(
  backend: StateBackendUnderTest,
  ring: KeyRing,
): () => Promise<StateStore> {
  let test: TestStateLocation | undefined;
  let store: StateStore | undefined;

  afterEach(async () => {
    await store?.close();
    await test?.cleanup();
    store = undefined;
    test = undefined;
  });

  return async () => {
    test = await backend.create();
    store = await openStateStore({ location: test.location, keyRing: ring, shouldMigrate: true });
    return store;
  };
}
