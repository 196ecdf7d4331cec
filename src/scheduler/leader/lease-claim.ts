import { releaseLease, renewLease, tryAcquireLease } from '../../state/leases.js';
import type { StateStore } from '../../state/state-store.js';
import type { LeadershipClaim } from './leadership-claim.js';

/**
 * The leadership as a lease in the state store (src/state/leases.ts): taken when free or expired,
 * renewed by each check, released when given up. A holder that dies keeps it until it expires.
 */

/** The lease's key, its owner (this Scheduler), its lifetime and the clock. */
export type LeaseClaimSettings = {
  readonly key: string;
  readonly instanceId: string;
  readonly leaseTtlMs: number;
  readonly now: () => number;
};

/** A claim on the lease `settings.key`. */
export function leaseClaim(store: StateStore, settings: LeaseClaimSettings): LeadershipClaim {
  const request = () => ({
    key: settings.key,
    owner: settings.instanceId,
    ttlMs: settings.leaseTtlMs,
    nowMs: settings.now(),
  });

  return {
    tryTake: async () => {
      if (!(await tryAcquireLease(store, request()))) return undefined;
      return {
        // A lease is only ever found lost by a check.
        lost: new Promise<void>(() => undefined),
        confirm: () => renewLease(store, request()).catch(() => false),
        release: () =>
          releaseLease(store, settings.key, settings.instanceId).catch(() => undefined),
      };
    },
  };
}
