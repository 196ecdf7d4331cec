import type { Logger } from 'pino';
import type { BackoffPolicy } from '../../core/backoff.js';
import { SluiceError } from '../../core/errors.js';
import type { StateStore } from '../../state/state-store.js';
import { reapExpiredLeases } from '../../state/tasks/reap-tasks.js';

/**
 * The loop that returns expired leases to the queue: one pass every interval, never two at once,
 * on a timer that does not keep the process alive. A failed pass is logged and the next one
 * tries again; several Schedulers on one database may reap side by side, since a pass skips the
 * rows another one has locked.
 */

/** What the reaper needs. */
export type LeaseReaperOptions = {
  readonly store: StateStore;
  readonly logger: Logger;
  readonly intervalMs: number;
  readonly retry: BackoffPolicy;
  readonly now: () => number;
};

/** A running reaper; `stop` waits for a pass in progress. */
export type LeaseReaper = { stop(): Promise<void> };

/** Starts reaping; the first pass runs one interval from now. */
export function startLeaseReaper(options: LeaseReaperOptions): LeaseReaper {
  let isStopped = false;
  let timer: NodeJS.Timeout | undefined;
  let pass: Promise<void> = Promise.resolve();

  const schedule = () => {
    if (isStopped) return;
    timer = setTimeout(() => {
      pass = reapOnce(options).finally(schedule);
    }, options.intervalMs);
    timer.unref();
  };
  schedule();

  return {
    stop: async () => {
      isStopped = true;
      clearTimeout(timer);
      await pass;
    },
  };
}

async function reapOnce(options: LeaseReaperOptions): Promise<void> {
  try {
    const result = await reapExpiredLeases(options.store, options.now(), options.retry);
    if (result.requeued + result.failed > 0) {
      options.logger.info(result, 'expired leases reaped');
    }
  } catch (error) {
    // Driver errors may quote connection settings; only a SluiceError's message is safe to log.
    const reason = error instanceof SluiceError ? error.message : 'the state store failed';
    options.logger.warn({ reason }, 'reaping expired leases failed; trying again');
  }
}
