import { createClient } from '../../../src/scheduler/auth/client-registry.js';
import { openStateStore } from '../../../src/state/open-state-store.js';
import type { KeyRing, StateLocation } from '../../../src/state/state-types.js';

/** A client's id and the secret it was given. */
export type ClientCredentials = { readonly clientId: string; readonly secret: string };

/** The clients of the credential-promise test. */
export type PromiseClients = {
  /** Runs tasks of both pools. */
  readonly runner: ClientCredentials;
  /** Plans and applies through the remote CLI. */
  readonly deployer: ClientCredentials;
};

/**
 * Creates the state at `location` (migrated) with the two clients, before a Scheduler process
 * opens it, and closes it again.
 */
export async function createStateWithClients(
  location: StateLocation,
  keyRing: KeyRing,
): Promise<PromiseClients> {
  const store = await openStateStore({ location, keyRing, shouldMigrate: true });
  try {
    const runner = await createClient(store, {
      clientId: 'runner',
      roles: ['executor:run', 'executor:apply'],
      actor: 'test',
    });
    const deployer = await createClient(store, {
      clientId: 'deployer',
      roles: ['deployer'],
      actor: 'test',
    });
    return {
      runner: { clientId: 'runner', secret: runner.secret },
      deployer: { clientId: 'deployer', secret: deployer.secret },
    };
  } finally {
    await store.close();
  }
}
