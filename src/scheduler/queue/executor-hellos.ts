import type { ExecutorRecord } from '../../state/tasks/executor-store.js';

/**
 * The Executors' hellos as the claims of this service last read them, so that a claim need not
 * read its Executor's hello again. A remembered hello is only a guess: the claim passes it to
 * the queue, which leases nothing and answers `executor_unknown` unless it is still the
 * Executor's current hello (same client, pools and slots), and the claim route then forgets it
 * and reads the hello again. A hello said again, here or on another Scheduler, is so never
 * served stale.
 */

/** Remembered hellos, at most this many; the oldest is forgotten first. */
const MAX_REMEMBERED = 10_000;

/** The hellos claims were checked against, by Executor id. */
export class ExecutorHellos {
  readonly #known = new Map<string, ExecutorRecord>();

  /** The hello remembered for `executorId`, if it came from `clientId`. */
  recall(executorId: string, clientId: string): ExecutorRecord | undefined {
    const known = this.#known.get(executorId);
    return known?.clientId === clientId ? known : undefined;
  }

  /** Remembers a hello read from the store, or one this service noted as seen later. */
  remember(executor: ExecutorRecord): void {
    this.#known.delete(executor.id);
    if (this.#known.size >= MAX_REMEMBERED) {
      const oldest = this.#known.keys().next();
      if (oldest.done !== true) this.#known.delete(oldest.value);
    }
    this.#known.set(executor.id, executor);
  }

  forget(executorId: string): void {
    this.#known.delete(executorId);
  }
}
