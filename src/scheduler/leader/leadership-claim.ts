import type { StateStore } from '../../state/state-store.js';
import { internalsOf } from '../../state/store-internals.js';
import { leaseClaim } from './lease-claim.js';

/**
 * How a Scheduler claims the leadership on its state store: on PostgreSQL a session advisory lock
 * on a connection of its own, which the server frees as soon as the holder's session ends; on
 * SQLite (one process per file in practice) a lease in the store, renewed while held, which a
 * holder that died loses when it expires.
 */

/** The leadership, held. */
export type LeadershipHold = {
  /** Resolves once the hold is found lost between checks (its connection broke). */
  readonly lost: Promise<void>;
  /** Checks, and for a lease renews, the hold; false once it is no longer ours. */
  confirm(): Promise<boolean>;
  /** Gives the leadership up. */
  release(): Promise<void>;
};

/** A way to take the leadership; `tryTake` never waits for another holder. */
export type LeadershipClaim = { tryTake(): Promise<LeadershipHold | undefined> };

/** The lease key of the leadership, and the advisory lock's name. */
export const LEADER_KEY = 'scheduler:leader';

/** What claiming needs: who claims, and for a lease how long it lasts unrenewed. */
export type ClaimSettings = {
  readonly instanceId: string;
  readonly leaseTtlMs: number;
  readonly now: () => number;
};

/** The store's way: its advisory lock where it has one, else the lease. */
export function leadershipClaimOf(store: StateStore, settings: ClaimSettings): LeadershipClaim {
  const tryLock = internalsOf(store).tryAdvisoryLock;
  if (tryLock === undefined) {
    return leaseClaim(store, { key: LEADER_KEY, ...settings });
  }
  return {
    tryTake: async () => {
      const hold = await tryLock(LEADER_KEY);
      if (hold === undefined) return undefined;
      return { lost: hold.lost, confirm: () => hold.isAlive(), release: () => hold.release() };
    },
  };
}
