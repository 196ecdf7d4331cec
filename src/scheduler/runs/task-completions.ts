import type { Logger } from '../../core/logger.js';
import type { TaskOutcome } from '../../protocol/task.js';
import type { TaskCompleteReport } from '../../protocol/task-completion-api.js';
import { outcomeFromWire } from '../../protocol/task-outcome-wire.js';
import type { StateStore } from '../../state/state-store.js';
import { readTaskRecord } from '../../state/tasks/task-queries.js';
import { FINISHED_STATUSES, TASKS_TABLE } from '../../state/tasks/task-rows.js';
import { listenForReadyTasks, type ReadySubscription } from '../../state/tasks/task-signals.js';

/**
 * Tells a run's coordinator how the tasks it queued ended, whichever Scheduler replica took the
 * completion. Every write that ends a task also signals its pool (in process at once, and by
 * NOTIFY from other replicas on PostgreSQL), so the awaited tasks are checked on each signal; a
 * slow timer checks as well, for endings no signal announces (the reaper failing a task whose
 * leases kept expiring) and for SQLite stores shared by several processes.
 */

/** How long between checks when no signal comes. */
const DEFAULT_POLL_MS = 1000;

/** Ids per query, well inside both backends' limits on bound parameters. */
const QUERY_CHUNK = 500;

type Waiter = { readonly resolve: (outcome: TaskOutcome) => void };

/** Waits for queued tasks to finish and reads how they ended. */
export class TaskCompletions {
  readonly #store: StateStore;
  readonly #logger: Logger;
  readonly #waiters = new Map<string, Waiter>();
  readonly #timer: NodeJS.Timeout;
  #subscription: ReadySubscription | undefined;
  #checking: Promise<void> | undefined;
  #isDirty = false;

  private constructor(store: StateStore, logger: Logger, pollMs: number) {
    this.#store = store;
    this.#logger = logger;
    this.#timer = setInterval(() => this.#check(), pollMs);
    this.#timer.unref();
  }

  /** Starts listening for task endings on `store`. */
  static async start(
    store: StateStore,
    options: { readonly logger: Logger; readonly pollMs?: number },
  ): Promise<TaskCompletions> {
    const completions = new TaskCompletions(
      store,
      options.logger,
      options.pollMs ?? DEFAULT_POLL_MS,
    );
    completions.#subscription = await listenForReadyTasks(store, () => completions.#check());
    return completions;
  }

  /** Resolves with the outcome of `taskId` once it has finished (succeeded, failed, ...). */
  wait(taskId: string): Promise<TaskOutcome> {
    const outcome = new Promise<TaskOutcome>((resolve) => {
      this.#waiters.set(taskId, { resolve });
    });
    this.#check();
    return outcome;
  }

  /** Stops waiting for `taskId`; its promise never settles. */
  forget(taskId: string): void {
    this.#waiters.delete(taskId);
  }

  /** Stops checking; waits for a check in flight. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.#subscription?.close();
    await this.#checking;
  }

  /** Runs one check, or asks the one in flight to run again once it is done. */
  #check(): void {
    if (this.#waiters.size === 0) return;
    if (this.#checking !== undefined) {
      this.#isDirty = true;
      return;
    }
    this.#checking = this.#checkFinished()
      .catch((error: unknown) => {
        this.#logger.warn({ err: error }, 'could not read the state of queued tasks');
      })
      .finally(() => {
        this.#checking = undefined;
        if (this.#isDirty) {
          this.#isDirty = false;
          this.#check();
        }
      });
  }

  async #checkFinished(): Promise<void> {
    const ids = [...this.#waiters.keys()];
    for (let start = 0; start < ids.length; start += QUERY_CHUNK) {
      const rows = await this.#store.db
        .selectFrom(TASKS_TABLE)
        .select(['id', 'status'])
        .where('id', 'in', ids.slice(start, start + QUERY_CHUNK))
        .where('status', 'in', [...FINISHED_STATUSES])
        .execute();
      for (const row of rows) await this.#settle(String(row.id), String(row.status));
    }
  }

  async #settle(taskId: string, status: string): Promise<void> {
    const waiter = this.#waiters.get(taskId);
    if (waiter === undefined) return;
    const outcome = await this.#outcomeOf(taskId, status);
    this.#waiters.delete(taskId);
    waiter.resolve(outcome);
  }

  async #outcomeOf(taskId: string, status: string): Promise<TaskOutcome> {
    const record = await readTaskRecord(this.#store, taskId);
    const report = record.lastReport as TaskCompleteReport | undefined;
    if (status === 'succeeded' && report !== undefined) return outcomeFromWire(report.outcome);
    if (status === 'failed' && report?.outcome.status === 'failed') {
      return outcomeFromWire(report.outcome);
    }
    return endedWithoutReport(status, record.attempt);
  }
}

/** The outcome of a task that ended without a report of its own. */
function endedWithoutReport(status: string, attempts: number): TaskOutcome {
  const [code, message] =
    status === 'cancelled'
      ? ['query_cancelled', 'The task was cancelled']
      : status === 'skipped'
        ? ['task_skipped', 'The task was skipped because a task it waited for did not succeed']
        : [
            'lease_expired',
            `The task's Executor stopped answering ${attempts} ${attempts === 1 ? 'time' : 'times'}` +
              ' (its lease expired); check that Executors of its pool are running and healthy',
          ];
  return { status: 'failed', error: { code, message, isRetryable: false }, durationMs: 0 };
}
