import type { TaskPool } from '../../core/task-pool.js';

/**
 * The claims waiting for work, each with the pools it claims from. A signal for a pool wakes the
 * waiters of that pool; one that arrives while a waiter is not waiting (it is claiming) is kept,
 * so that the waiter claims again instead of sleeping through it.
 */

/** Why a wait ended. */
export type WakeReason = 'signalled' | 'timer' | 'aborted' | 'closed';

/** One waiting claim. */
export type ReadyWaiter = {
  /** Clears the signal kept since the last call; call it before each claim. */
  takeSignal(): boolean;
  /**
   * Waits until a signal for one of the waiter's pools, `timeoutMs`, the abort signal or the
   * close of the set, whichever comes first; a signal kept since the last `takeSignal` ends it
   * at once.
   */
  wait(timeoutMs: number, signal: AbortSignal): Promise<WakeReason>;
  /** Leaves the set. */
  leave(): void;
};

type Entry = {
  readonly pools: readonly TaskPool[];
  isSignalled: boolean;
  wake: ((reason: WakeReason) => void) | undefined;
};

/** The set of waiting claims of one dispatcher. */
export class ReadyWaiters {
  readonly #entries = new Set<Entry>();
  #isClosed = false;

  /** Joins the set; signals from now on are seen by the waiter. */
  join(pools: readonly TaskPool[]): ReadyWaiter {
    const entry: Entry = { pools, isSignalled: false, wake: undefined };
    this.#entries.add(entry);
    return {
      takeSignal: () => {
        const wasSignalled = entry.isSignalled;
        entry.isSignalled = false;
        return wasSignalled;
      },
      wait: (timeoutMs, signal) => this.#wait(entry, timeoutMs, signal),
      leave: () => {
        this.#entries.delete(entry);
      },
    };
  }

  /** Wakes the waiters of any of `pools`. */
  signal(pools: readonly TaskPool[]): void {
    for (const entry of this.#entries) {
      if (!entry.pools.some((pool) => pools.includes(pool))) continue;
      entry.isSignalled = true;
      entry.wake?.('signalled');
    }
  }

  /** Ends every wait, now and later, with `closed`. */
  close(): void {
    this.#isClosed = true;
    for (const entry of this.#entries) entry.wake?.('closed');
  }

  #wait(entry: Entry, timeoutMs: number, signal: AbortSignal): Promise<WakeReason> {
    if (this.#isClosed) return Promise.resolve('closed');
    if (signal.aborted) return Promise.resolve('aborted');
    if (entry.isSignalled) return Promise.resolve('signalled');

    return new Promise((resolve) => {
      const end = (reason: WakeReason) => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        entry.wake = undefined;
        resolve(reason);
      };
      const onAbort = () => end('aborted');
      const timer = setTimeout(() => end('timer'), Math.max(0, timeoutMs));
      signal.addEventListener('abort', onAbort, { once: true });
      entry.wake = end;
    });
  }
}
