import { SluiceError } from '../../core/errors.js';
import type { TimeRange } from '../../core/intervals/range-set.js';
import type { Task } from '../../protocol/task.js';

/**
 * The queue between the Scheduler's runs and the Executors that pull from it: runs push tasks
 * once their dependencies are done, Executors claim them. This in-memory queue serves the CLI's
 * local mode and `sluice up`; the state store's queue serves Executors over HTTP.
 */
export type TaskQueue = {
  /**
   * Adds a ready task and wakes the waiting claims; the first to run takes it. `recordOnSuccess`
   * is the range its success completes for its version: a queue that outlives its run records it
   * when the task succeeds (see `recordsOnSuccess`).
   */
  push(task: Task, recordOnSuccess?: TimeRange): void;
  /**
   * Whether the queue records a pushed task's `recordOnSuccess` range when the task succeeds,
   * before its completion is reported; its coordinator then need not record the range again.
   */
  readonly recordsOnSuccess: boolean;
  /**
   * Waits until a task is ready, the queue is closed or the signal aborts; returns up to
   * `maxTasks` tasks, oldest first, or none once the queue is closed and empty.
   */
  claim(maxTasks: number, signal: AbortSignal): Promise<readonly Task[]>;
  /** No more tasks will come: waiting and later claims return what is left, then nothing. */
  close(): void;
  /** How many tasks wait to be claimed. */
  readonly depth: number;
};

type Waiter = { readonly wake: () => void };

/** A queue in process memory: claims are woken by pushes, never by polling. */
export class InMemoryTaskQueue implements TaskQueue {
  /** Ranges are recorded by the coordinator: this queue ends with its run. */
  readonly recordsOnSuccess = false;
  readonly #ready: Task[] = [];
  readonly #waiters = new Set<Waiter>();
  #isClosed = false;

  get depth(): number {
    return this.#ready.length;
  }

  push(task: Task): void {
    this.#ready.push(task);
    this.#wakeAll();
  }

  async claim(maxTasks: number, signal: AbortSignal): Promise<readonly Task[]> {
    if (!Number.isSafeInteger(maxTasks) || maxTasks < 1) {
      throw new SluiceError('internal', `A claim must ask for at least one task, not ${maxTasks}`);
    }
    while (this.#ready.length === 0 && !this.#isClosed && !signal.aborted) {
      await this.#waitForChange(signal);
    }
    if (signal.aborted) return [];
    return this.#ready.splice(0, maxTasks);
  }

  close(): void {
    this.#isClosed = true;
    this.#wakeAll();
  }

  #waitForChange(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const waiter: Waiter = {
        wake: () => {
          this.#waiters.delete(waiter);
          signal.removeEventListener('abort', waiter.wake);
          resolve();
        },
      };
      this.#waiters.add(waiter);
      signal.addEventListener('abort', waiter.wake, { once: true });
    });
  }

  #wakeAll(): void {
    for (const waiter of [...this.#waiters]) waiter.wake();
  }
}
