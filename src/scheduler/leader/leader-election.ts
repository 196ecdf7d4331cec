import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from '../../core/logger.js';
import type { StateStore } from '../../state/state-store.js';
import {
  type LeadershipClaim,
  type LeadershipHold,
  leadershipClaimOf,
} from './leadership-claim.js';

/**
 * Leader election among the Scheduler replicas of one state store: all of them serve the API,
 * exactly one holds the leadership and does the leader's duties (the cadence loop, maintenance).
 * A replica that does not lead tries again every `retryMs`, so another takes over within about
 * that long once the leader's session ends (within the lease's lifetime on SQLite). The leader
 * checks its hold every `retryMs`; a hold found lost ends the leadership at once: the duties are
 * stopped, then the replica tries again like any other.
 *
 * Between the moment a leader's hold is lost (its connection broke) and the moment it notices,
 * another replica may already lead: for up to `retryMs` plus a check's timeout two replicas may
 * both do the duties, which therefore must tolerate it (a run asked for twice, a backup taken
 * twice).
 */

/** What the leader does; stopped when the leadership ends. */
export type LeaderDuties = { stop(): Promise<void> };

/** Lifecycle of one replica's election, each transition logged at info. */
export type ElectionState = 'following' | 'leading' | 'stopped';

/** What the election needs. */
export type LeaderElectionOptions = {
  readonly store: StateStore;
  readonly logger: Logger;
  /** This replica's id, unique among the replicas (the lease's owner on SQLite). */
  readonly instanceId: string;
  readonly retryMs: number;
  /** Starts the duties once this replica leads; a rejection gives the leadership up. */
  onElected(): Promise<LeaderDuties>;
  /** Called on each change of leadership, for the `/metrics` gauge. */
  readonly onChange?: (isLeader: boolean) => void;
  /** How long the SQLite lease lasts unrenewed; default three times `retryMs`. */
  readonly leaseTtlMs?: number;
};

/** A running election. */
export type LeaderElection = {
  isLeader(): boolean;
  /** Stops the duties if leading, gives the leadership up and ends the election. */
  stop(): Promise<void>;
};

/** Starts the election; the first attempt to lead begins at once. */
export function startLeaderElection(options: LeaderElectionOptions): LeaderElection {
  const logger = options.logger.child({ component: 'leader', instanceId: options.instanceId });
  const claim = leadershipClaimOf(options.store, {
    instanceId: options.instanceId,
    leaseTtlMs: options.leaseTtlMs ?? 3 * options.retryMs,
    now: Date.now,
  });
  const abort = new AbortController();
  let state: ElectionState = 'following';
  const setState = (next: ElectionState, message: string) => {
    state = next;
    options.onChange?.(next === 'leading');
    logger.info({ state: next }, message);
  };

  const running = electionLoop({ ...options, logger }, claim, abort.signal, setState).catch(
    (error: unknown) => {
      // Every step catches its own failures; this is the last guard, and ends the election.
      if (state === 'leading') setState('following', 'leadership given up');
      logger.error({ error: messageOf(error) }, 'leader election failed');
    },
  );
  return {
    isLeader: () => state === 'leading',
    stop: async () => {
      abort.abort();
      await running;
      setState('stopped', 'leader election stopped');
    },
  };
}

type SetState = (next: ElectionState, message: string) => void;

async function electionLoop(
  options: LeaderElectionOptions,
  claim: LeadershipClaim,
  signal: AbortSignal,
  setState: SetState,
): Promise<void> {
  while (!signal.aborted) {
    const hold = await tryTake(claim, options.logger);
    if (hold !== undefined && signal.aborted) await hold.release();
    else if (hold !== undefined) await lead(options, hold, signal, setState);
    await sleep(options.retryMs, signal);
  }
}

async function tryTake(
  claim: LeadershipClaim,
  logger: Logger,
): Promise<LeadershipHold | undefined> {
  try {
    return await claim.tryTake();
  } catch (error) {
    logger.warn(
      { error: messageOf(error) },
      'could not try to take the leadership; trying again later',
    );
    return undefined;
  }
}

/** Leads until the hold is lost or the election stops, then stops the duties and lets go. */
async function lead(
  options: LeaderElectionOptions,
  hold: LeadershipHold,
  signal: AbortSignal,
  setState: SetState,
): Promise<void> {
  setState('leading', 'this Scheduler leads');
  let duties: LeaderDuties | undefined;
  try {
    duties = await options.onElected();
  } catch (error) {
    options.logger.error(
      { error: messageOf(error) },
      "the leader's duties could not start; the leadership is given up and tried again later",
    );
  }

  const isLost = duties !== undefined && (await holdUntilLost(hold, options.retryMs, signal));
  setState('following', isLost ? 'leadership lost' : 'leadership given up');
  try {
    await duties?.stop();
  } catch (error) {
    options.logger.error({ error: messageOf(error) }, "the leader's duties failed to stop");
  }
  await hold.release();
}

/** Checks the hold every `retryMs`; true once it is lost, false when the election stops. */
async function holdUntilLost(
  hold: LeadershipHold,
  retryMs: number,
  signal: AbortSignal,
): Promise<boolean> {
  let isLost = false;
  void hold.lost.then(() => {
    isLost = true;
  });
  while (!signal.aborted && !isLost) {
    await sleep(retryMs, signal, hold.lost);
    if (signal.aborted || isLost) break;
    if (!(await hold.confirm())) return true;
  }
  return isLost && !signal.aborted;
}

/** Waits `ms`, or less when `signal` aborts or `early` settles. */
async function sleep(ms: number, signal: AbortSignal, early?: Promise<void>): Promise<void> {
  if (signal.aborted) return;
  const wait = new AbortController();
  const stop = () => wait.abort();
  signal.addEventListener('abort', stop, { once: true });
  void early?.then(stop);
  try {
    await delay(ms, undefined, { signal: wait.signal }).catch(() => undefined);
  } finally {
    signal.removeEventListener('abort', stop);
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
