import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../../core/logger.js';
import {
  type LeaseHolder,
  readLease,
  releaseLease,
  renewLease,
  tryAcquireLease,
} from '../../state/leases.js';
import type { StateStore } from '../../state/state-store.js';

/**
 * The lease a run holds on a version while it evaluates that version's intervals, so that two
 * processes sharing a state store never evaluate the same interval at the same time: the second
 * waits, then finds the intervals done. A held lease is renewed in the background; a holder that
 * died stops renewing and its lease expires, or, on the same host, is taken at once when its
 * process is gone.
 */

/** How leases on versions are taken and kept. */
export type LeaseSettings = {
  /** Who we are: `<host>/<pid>/<run id>`; see `leaseOwnerOf`. */
  readonly owner: string;
  readonly ttlMs: number;
  /** How long to wait between attempts while another process holds the lease. */
  readonly pollMs: number;
};

/** A held lease; `release` stops renewing and gives it up. */
export type HeldLease = {
  readonly key: string;
  /** Whether another owner took the lease after it expired; the holder must stop then. */
  readonly isLost: boolean;
  release(): Promise<void>;
};

/** The lease owner id of this process for a run. */
export function leaseOwnerOf(runId: string): string {
  return `${hostname()}/${process.pid}/${runId}`;
}

/** The key of the lease on a version. */
export function versionLeaseKey(versionId: string): string {
  return `version:${versionId}`;
}

/**
 * Takes the lease, waiting while another live process holds it; `onWait` is told once who holds
 * it. Throws the signal's reason when it aborts first.
 */
export async function acquireLease(
  store: StateStore,
  key: string,
  settings: LeaseSettings,
  options: { signal: AbortSignal; logger: Logger; onWait?: (holder: LeaseHolder) => void },
): Promise<HeldLease> {
  let hasReportedWait = false;
  for (;;) {
    options.signal.throwIfAborted();
    const attempt = await tryTakeLease(store, key, settings, options.logger);
    if (attempt.lease !== undefined) return attempt.lease;
    if (attempt.holder !== undefined && !hasReportedWait) {
      hasReportedWait = true;
      options.onWait?.(attempt.holder);
    }
    // An aborted sleep rejects with a generic AbortError; the loop's check throws the reason.
    await sleep(settings.pollMs, undefined, { signal: options.signal }).catch(() => undefined);
  }
}

/**
 * Takes the lease once, without waiting: free, expired, ours, or held by a process of this host
 * that is gone. Returns the held lease, or who holds it.
 */
export async function tryTakeLease(
  store: StateStore,
  key: string,
  settings: LeaseSettings,
  logger: Logger,
): Promise<{ lease?: HeldLease; holder?: LeaseHolder }> {
  const request = { key, owner: settings.owner, ttlMs: settings.ttlMs, nowMs: Date.now() };
  if (await tryAcquireLease(store, request))
    return { lease: keepRenewed(store, key, settings, logger) };

  const holder = await readLease(store, key);
  if (holder !== undefined && isDeadLocalOwner(holder.owner)) {
    if (await tryAcquireLease(store, { ...request, nowMs: Date.now() }, holder.owner)) {
      return { lease: keepRenewed(store, key, settings, logger) };
    }
  }
  return holder === undefined ? {} : { holder };
}

function keepRenewed(
  store: StateStore,
  key: string,
  settings: LeaseSettings,
  logger: Logger,
): HeldLease {
  const renew = async () => {
    const request = { key, owner: settings.owner, ttlMs: settings.ttlMs, nowMs: Date.now() };
    const isStillOurs = await renewLease(store, request).catch((error: unknown) => {
      logger.warn({ key, err: error }, 'could not renew a lease; will try again');
      return true;
    });
    if (isStillOurs) return;
    isLost = true;
    clearInterval(timer);
    logger.warn({ key }, 'lost a lease: another process took it after it expired');
  };
  let isLost = false;
  const timer = setInterval(() => void renew(), Math.max(1, Math.floor(settings.ttlMs / 3)));
  timer.unref();
  return {
    key,
    get isLost() {
      return isLost;
    },
    release: async () => {
      clearInterval(timer);
      await releaseLease(store, key, settings.owner);
    },
  };
}

/** Whether an owner id names a process on this host that no longer exists. */
function isDeadLocalOwner(owner: string): boolean {
  const [host, pidText] = owner.split('/');
  const pid = Number(pidText);
  if (host !== hostname() || !Number.isSafeInteger(pid) || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
