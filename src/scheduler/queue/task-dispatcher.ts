import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { BackoffPolicy } from '../../core/backoff.js';
import type { TaskPool } from '../../core/task-pool.js';
import type { StateStore } from '../../state/state-store.js';
import type { HelloSeen } from '../../state/tasks/claim-hello.js';
import {
  type ClaimedTask,
  type ConcurrencyCaps,
  claimTasks,
} from '../../state/tasks/claim-tasks.js';
import { extendLeasesAfterRestart } from '../../state/tasks/reap-tasks.js';
import { releaseTask } from '../../state/tasks/task-leases.js';
import { nextReadyAtMs } from '../../state/tasks/task-queries.js';
import { listenForReadyTasks, type ReadySubscription } from '../../state/tasks/task-signals.js';
import { type LeaseReaper, startLeaseReaper } from './lease-reaper.js';
import { type ReadyWaiter, ReadyWaiters } from './ready-waiters.js';

/**
 * Serves long-poll claims over the state store's queue. A claim joins the waiters before it
 * first tries the queue, so a task made ready between an empty claim and the wait still wakes
 * it; it then sleeps until one of its pools is signalled (in process, or by NOTIFY from another
 * Scheduler), a backoff ends, its wait is over, its caller goes away or the service shuts down,
 * and claims again. Nothing polls the table. The dispatcher also runs the lease reaper, and
 * extends live leases when it starts (a restart must not cost Executors their tasks).
 */

/** What the dispatcher needs: the store, the lease length, caps, retry spacing and a clock. */
export type DispatcherOptions = {
  readonly store: StateStore;
  readonly logger: Logger;
  readonly leaseMs: number;
  readonly caps: ConcurrencyCaps;
  /** The spacing of retries after a lease expired. */
  readonly retry: BackoffPolicy;
  readonly reapIntervalMs: number;
  /** The queue's clock, epoch milliseconds. */
  readonly now: () => number;
};

/** One long-poll claim. */
export type ClaimWait = {
  /** The token's subject; the lease owner. */
  readonly owner: string;
  readonly executorId: string;
  readonly pools: readonly TaskPool[];
  readonly maxTasks: number;
  /** How long to wait for a task when none is ready; 0 claims once. */
  readonly waitMs: number;
  /** Aborts when the caller went away: the claim ends and gives back what it leased. */
  readonly signal: AbortSignal;
  /**
   * The Executor's hello the claim was checked against; every claim of the wait then leases
   * only while it is still current, and the wait ends with `executor_unknown` otherwise.
   */
  readonly hello?: HelloSeen;
};

/** Claims waiting for tasks, woken by ready signals; started and closed with the service. */
export class TaskDispatcher {
  readonly #options: DispatcherOptions;
  readonly #waiters: ReadyWaiters;
  readonly #subscription: ReadySubscription;
  readonly #reaper: LeaseReaper;
  #closing: Promise<void> | undefined;

  private constructor(
    options: DispatcherOptions,
    waiters: ReadyWaiters,
    subscription: ReadySubscription,
    reaper: LeaseReaper,
  ) {
    this.#options = options;
    this.#waiters = waiters;
    this.#subscription = subscription;
    this.#reaper = reaper;
  }

  /** Extends the live leases, listens for ready tasks and starts the reaper. */
  static async start(options: DispatcherOptions): Promise<TaskDispatcher> {
    const { store, logger } = options;
    const extended = await extendLeasesAfterRestart(store, options.now(), options.leaseMs);
    if (extended > 0) logger.info({ extended }, 'leases extended after restart');

    const waiters = new ReadyWaiters();
    const subscription = await listenForReadyTasks(store, (pools) => waiters.signal(pools));
    const reaper = startLeaseReaper({
      store,
      logger,
      intervalMs: options.reapIntervalMs,
      retry: options.retry,
      now: options.now,
    });
    logger.info({ leaseMs: options.leaseMs }, 'task dispatcher started');
    return new TaskDispatcher(options, waiters, subscription, reaper);
  }

  /**
   * Leases up to `maxTasks` ready tasks, waiting up to `waitMs` for one; an empty list when none
   * came, the caller went away or the service is closing.
   */
  async claim(wait: ClaimWait): Promise<ClaimedTask[]> {
    if (this.#closing !== undefined) return [];
    const waiter = this.#waiters.join(wait.pools);
    try {
      const tasks = await this.#claimUntilDeadline(waiter, wait);
      if (!wait.signal.aborted) return tasks;

      await this.#giveBack(tasks, wait);
      return [];
    } finally {
      waiter.leave();
    }
  }

  /** Ends waiting claims at once (they answer with no task), stops the reaper and listening. */
  close(): Promise<void> {
    this.#closing ??= this.#stop();
    return this.#closing;
  }

  async #stop(): Promise<void> {
    this.#waiters.close();
    await this.#reaper.stop();
    await this.#subscription.close();
    this.#options.logger.info({}, 'task dispatcher stopped');
  }

  async #claimUntilDeadline(waiter: ReadyWaiter, wait: ClaimWait): Promise<ClaimedTask[]> {
    const deadline = performance.now() + wait.waitMs;
    for (;;) {
      waiter.takeSignal();
      const tasks = await this.#claimNow(wait);
      if (tasks.length > 0 || this.#isOver(wait)) return tasks;

      const sleepMs = await this.#sleepMs(wait, deadline - performance.now());
      if (sleepMs <= 0) return [];
      this.#options.logger.debug(
        { executorId: wait.executorId, pools: wait.pools, sleepMs: Math.round(sleepMs) },
        'claim waiting',
      );
      const reason = await waiter.wait(sleepMs, wait.signal);
      if (reason === 'aborted' || reason === 'closed') return [];
      if (reason === 'timer' && performance.now() >= deadline) return [];
    }
  }

  #claimNow(wait: ClaimWait): Promise<ClaimedTask[]> {
    const { store, leaseMs, caps, now } = this.#options;
    return claimTasks(store, {
      owner: wait.owner,
      executorId: wait.executorId,
      pools: wait.pools,
      maxTasks: wait.maxTasks,
      nowMs: now(),
      leaseMs,
      caps,
      hello: wait.hello,
    });
  }

  #isOver(wait: ClaimWait): boolean {
    return wait.signal.aborted || this.#closing !== undefined;
  }

  /** How long to sleep: until the deadline, or until a backoff of the claim's pools ends. */
  async #sleepMs(wait: ClaimWait, remainingMs: number): Promise<number> {
    if (remainingMs <= 0) return 0;
    const { store, now } = this.#options;
    const nowMs = now();
    const nextMs = await nextReadyAtMs(store, wait.pools, nowMs);
    return nextMs === undefined ? remainingMs : Math.min(remainingMs, Math.max(1, nextMs - nowMs));
  }

  /** Releases what was leased to a caller that went away before it could be told. */
  async #giveBack(tasks: readonly ClaimedTask[], wait: ClaimWait): Promise<void> {
    const { store, logger, now } = this.#options;
    for (const task of tasks) {
      const call = { taskId: task.id, owner: wait.owner, epoch: task.epoch, nowMs: now() };
      await releaseTask(store, call).catch(() => {
        logger.warn({ taskId: task.id }, 'could not release a task claimed for a lost caller');
      });
    }
    logger.debug({ executorId: wait.executorId, released: tasks.length }, 'claim abandoned');
  }
}
