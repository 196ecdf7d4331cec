import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from '../../core/logger.js';
import type { StateStore } from '../../state/state-store.js';
import { type CadenceMembers, passRequests } from './cadence-requests.js';
import type { CadenceRunRequest, CadenceRunStarter } from './cadence-run.js';
import { nextTickOf } from './cadence-schedule.js';
import { type CadenceTarget, CadenceTargets } from './cadence-targets.js';

/**
 * The cadence loop, run by the leading Scheduler: it sleeps until the next cron tick of any model
 * in the cadence's environments, then asks for one run per environment of the models whose cron
 * ticked since the last pass (cadence-requests.ts). When it starts (on election) every model is
 * new to it, so it asks once for all of them, to catch up after a takeover; ticks missed while no
 * Scheduler led are not replayed one by one, since a run computes all missing intervals by range
 * arithmetic anyway. It sleeps at most `maxSleepMs`, so that changed settings are seen soon.
 */

/** Sleeps `ms`, or less once `signal` aborts; the default uses timers. */
export type CadenceSleep = (ms: number, signal: AbortSignal) => Promise<void>;

/** What the loop needs. */
export type CadenceLoopOptions = {
  readonly store: StateStore;
  readonly logger: Logger;
  readonly starter: CadenceRunStarter;
  /** The clock, epoch milliseconds; default `Date.now`. */
  readonly now?: () => number;
  readonly sleep?: CadenceSleep;
  /** The longest sleep between passes; default 60 s. */
  readonly maxSleepMs?: number;
};

/** A running loop. */
export type CadenceLoop = {
  /** Ends the loop after the pass in progress, if any. */
  stop(): Promise<void>;
};

export const DEFAULT_CADENCE_MAX_SLEEP_MS = 60_000;

/** How soon a pass that could not read the store is tried again. */
const READ_RETRY_MS = 5_000;

/** Starts the loop; its first pass, the catch-up, begins at once. */
export function startCadenceLoop(options: CadenceLoopOptions): CadenceLoop {
  const logger = options.logger.child({ component: 'cadence' });
  const abort = new AbortController();
  const running = runLoop({ ...options, logger }, abort.signal).catch((error: unknown) => {
    logger.error({ error: messageOf(error) }, 'cadence loop failed');
  });
  logger.info({}, 'cadence loop started');

  return {
    stop: async () => {
      abort.abort();
      await running;
      logger.info({}, 'cadence loop stopped');
    },
  };
}

async function runLoop(options: CadenceLoopOptions, signal: AbortSignal): Promise<void> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? sleepOnTimers;
  const maxSleepMs = options.maxSleepMs ?? DEFAULT_CADENCE_MAX_SLEEP_MS;
  const targets = new CadenceTargets(options.store, options.logger);
  let lastPassMs: number | undefined;
  let members: CadenceMembers = new Map();
  let current: readonly CadenceTarget[] = [];
  let didRead = true;

  for (let isFirst = true; !signal.aborted; isFirst = false) {
    if (!isFirst) {
      const wakeMs = didRead
        ? nextWakeMs(current, lastPassMs ?? now(), (lastPassMs ?? now()) + maxSleepMs)
        : now() + Math.min(maxSleepMs, READ_RETRY_MS);
      await sleep(Math.max(0, wakeMs - now()), signal);
      if (signal.aborted) return;
    }

    // A clock that went back would otherwise fire the same ticks again.
    const passMs = Math.max(now(), lastPassMs ?? Number.NEGATIVE_INFINITY);
    const read = await readTargets(targets, passMs, options.logger);
    didRead = read !== undefined;
    if (read === undefined) continue;

    const pass = passRequests(read, members, { afterMs: lastPassMs ?? passMs, atMs: passMs });
    await startRuns(options, pass.requests);
    current = read;
    members = pass.members;
    lastPassMs = passMs;
  }
}

/** The environments in the cadence, or undefined (logged) when the store could not be read. */
async function readTargets(
  targets: CadenceTargets,
  nowMs: number,
  logger: Logger,
): Promise<CadenceTarget[] | undefined> {
  try {
    return await targets.read(nowMs);
  } catch (error) {
    logger.error(
      { error: messageOf(error) },
      'cadence could not read the environments; it tries again at its next wake-up',
    );
    return undefined;
  }
}

/** The earliest next tick of any environment after `afterMs`, but no later than `latestMs`. */
function nextWakeMs(targets: readonly CadenceTarget[], afterMs: number, latestMs: number): number {
  let wakeMs = latestMs;
  for (const target of targets) {
    const tickMs = nextTickOf(target.schedule, afterMs);
    if (tickMs !== undefined) wakeMs = Math.min(wakeMs, tickMs);
  }
  return wakeMs;
}

/** Hands every request to the starter at once; a failure is logged and the others go on. */
async function startRuns(
  options: CadenceLoopOptions,
  requests: readonly CadenceRunRequest[],
): Promise<void> {
  await Promise.all(
    requests.map(async (request) => {
      const fields = {
        environment: request.environment,
        models: request.modelNames.length,
        tick: new Date(request.nowMs).toISOString(),
      };
      try {
        await options.starter(request);
        options.logger.debug(fields, 'cadence run asked for');
      } catch (error) {
        options.logger.error({ ...fields, error: messageOf(error) }, 'cadence run not started');
      }
    }),
  );
}

async function sleepOnTimers(ms: number, signal: AbortSignal): Promise<void> {
  await delay(ms, undefined, { signal }).catch(() => undefined);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
