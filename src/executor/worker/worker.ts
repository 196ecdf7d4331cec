import { backoffDelayMs } from '../../core/backoff.js';
import { SluiceError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import {
  type ClaimedTaskInfo,
  type HelloResponse,
  MAX_POLL_WAIT_SEC,
} from '../../protocol/tasks-api.js';
import { sleep } from '../protocol/retry-loop.js';
import { LeasedTask } from './leased-task.js';
import {
  resolveWorkerSettings,
  type WorkerOptions,
  type WorkerSettings,
} from './worker-options.js';

/**
 * The Executor's worker loop: it says hello, then claims tasks only while a slot is free (asking
 * for as many as there are free slots), and hands each claimed task to a LeasedTask, which runs,
 * heartbeats, logs and completes it. `stop(graceMs)` stops claiming, lets running tasks finish
 * within the grace period, then aborts the rest and releases their leases. State changes are
 * logged at info; per-task detail at debug.
 */

/** Where the worker is in its life. */
export type WorkerState = 'starting' | 'running' | 'stopping' | 'stopped' | 'failed';

/** A started worker. */
export type Worker = {
  readonly state: WorkerState;
  /** How many claimed tasks it holds now. */
  readonly heldTasks: number;
  /** Resolves once stopped; rejects with the error that ended the worker when it failed. */
  readonly done: Promise<void>;
  /** Stops claiming, waits up to `graceMs` for running tasks, aborts and releases the rest. */
  stop(graceMs: number): Promise<void>;
};

/** Starts a worker; it says hello in the background (see `done` for a failure). */
export function startWorker(options: WorkerOptions): Worker {
  return new WorkerLoop(resolveWorkerSettings(options));
}

class WorkerLoop implements Worker {
  readonly done: Promise<void>;
  readonly #settings: WorkerSettings;
  readonly #logger: Logger;
  readonly #held = new Map<string, LeasedTask>();
  readonly #claims = new AbortController();
  readonly #loop: Promise<void>;
  #state: WorkerState = 'starting';
  #stopping: Promise<void> | undefined;
  #refusals = 0;

  constructor(settings: WorkerSettings) {
    this.#settings = settings;
    this.#logger = settings.logger.child({
      component: 'executor',
      executorId: settings.executorId,
    });
    this.#logger.info(
      { state: 'starting', pools: settings.pools, slots: settings.slots },
      'worker starting',
    );
    this.#loop = this.#main();
    this.done = this.#loop.then(() => this.#stopping);
    // Callers learn of a failure through `done`; this keeps it from going unhandled meanwhile.
    this.done.catch(() => {});
  }

  get state(): WorkerState {
    return this.#state;
  }

  get heldTasks(): number {
    return this.#held.size;
  }

  stop(graceMs: number): Promise<void> {
    this.#stopping ??= this.#stop(graceMs);
    return this.#stopping;
  }

  async #main(): Promise<void> {
    try {
      let hello = await this.#hello();
      this.#enter('running');
      while (!this.#claims.signal.aborted) {
        hello = await this.#claimOnce(hello);
      }
    } catch (error) {
      if (this.#claims.signal.aborted) return;
      this.#logger.error({ code: codeOf(error), reason: messageOf(error) }, 'worker failed');
      await this.#abortAll();
      this.#enter('failed');
      throw error;
    }
  }

  #hello(): Promise<HelloResponse> {
    const { executorId, agent, pools, slots } = this.#settings;
    const request = { executor_id: executorId, agent, pools: [...pools], slots };
    return this.#settings.connection.hello(request, this.#claims.signal);
  }

  /** Waits for a free slot, then claims; a refusal that may pass is waited out. */
  async #claimOnce(hello: HelloResponse): Promise<HelloResponse> {
    const free = this.#settings.slots - this.#held.size;
    if (free <= 0) {
      await Promise.race([...[...this.#held.values()].map((task) => task.ended), this.#stopped()]);
      return hello;
    }
    const waitSec = Math.min(this.#settings.claimWaitSec ?? hello.poll_wait_sec, MAX_POLL_WAIT_SEC);
    const request = { executor_id: this.#settings.executorId, max_tasks: free, wait_sec: waitSec };
    try {
      const claimed = await this.#settings.connection.claim(request, this.#claims.signal);
      this.#refusals = 0;
      for (const task of claimed) this.#hold(task, hello);
      return hello;
    } catch (error) {
      if (this.#claims.signal.aborted) return hello;
      return this.#afterRefusal(error, hello);
    }
  }

  /**
   * A claim was refused: a forgotten hello is said again; refused credentials are waited out
   * (they may be rotated at runtime); anything else ends the worker.
   */
  async #afterRefusal(error: unknown, hello: HelloResponse): Promise<HelloResponse> {
    const code = codeOf(error);
    if (code === 'executor_unknown') {
      this.#logger.info({}, 'the Scheduler forgot this Executor; saying hello again');
      return this.#hello();
    }
    if (code !== 'auth_invalid' && code !== 'rate_limited') throw error;

    this.#refusals += 1;
    const delayMs = backoffDelayMs(this.#refusals, this.#settings.claimBackoff);
    this.#logger.error({ code, reason: messageOf(error), delayMs }, 'claim refused; waiting');
    await sleep(delayMs, this.#claims.signal).catch(() => {});
    return hello;
  }

  #hold(claimed: ClaimedTaskInfo, hello: HelloResponse): void {
    if (this.#claims.signal.aborted) {
      // Claimed as the worker began to stop: give it straight back.
      const signal = AbortSignal.timeout(this.#settings.releaseTimeoutMs);
      void this.#settings.connection.release(claimed.id, claimed.epoch, signal).catch(() => {});
      return;
    }
    const task = new LeasedTask(claimed, this.#settings, hello.heartbeat_interval_sec * 1000);
    this.#held.set(task.id, task);
    void task.ended.then((end) => {
      this.#held.delete(task.id);
      this.#logger.debug({ taskId: task.id, ...end }, 'task ended');
    });
  }

  async #stop(graceMs: number): Promise<void> {
    if (this.#state === 'failed' || this.#state === 'stopped') return;
    this.#enter('stopping');
    this.#claims.abort(new SluiceError('usage', 'The Executor is stopping'));
    await this.#loop.catch(() => {});

    const allEnded = Promise.all([...this.#held.values()].map((task) => task.ended));
    // The grace timer is cleared once every task ended, so that it does not hold the process.
    const grace = new AbortController();
    await Promise.race([allEnded, sleep(graceMs, grace.signal).catch(() => {})]);
    grace.abort();
    if (this.#held.size > 0) {
      this.#logger.info(
        { tasks: this.#held.size },
        'grace period over; aborting and releasing tasks',
      );
      await this.#abortAll();
    }
    this.#enter('stopped');
  }

  /** Aborts every held task and waits until each has released its lease or given up. */
  async #abortAll(): Promise<void> {
    const tasks = [...this.#held.values()];
    for (const task of tasks) task.abortForStop();
    await Promise.all(tasks.map((task) => task.ended));
  }

  #stopped(): Promise<void> {
    const signal = this.#claims.signal;
    return new Promise((resolve) => {
      if (signal.aborted) resolve();
      else signal.addEventListener('abort', () => resolve(), { once: true });
    });
  }

  #enter(state: WorkerState): void {
    const previous = this.#state;
    this.#state = state;
    this.#logger.info({ state, previous, heldTasks: this.#held.size }, `worker ${state}`);
  }
}

function codeOf(error: unknown): string {
  return error instanceof SluiceError ? error.code : 'internal';
}

function messageOf(error: unknown): string {
  return error instanceof SluiceError ? error.message : 'unexpected failure';
}
