import { randomUUID } from 'node:crypto';
import { SluiceError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { Task } from '../../protocol/task.js';
import type { CompleteRequest } from '../../protocol/task-completion-api.js';
import { outcomeToWire } from '../../protocol/task-outcome-wire.js';
import type { ClaimedTaskInfo } from '../../protocol/tasks-api.js';
import { sleep } from '../protocol/retry-loop.js';
import { LogBatches, type LogLine } from './log-batches.js';
import type { WorkerSettings, WorkerTaskOutcome } from './worker-options.js';

/**
 * One claimed task on its way through the worker: it runs with an abort signal, its lease is
 * renewed every heartbeat interval, its log lines go out in numbered batches, and its outcome is
 * completed under one idempotency key. A heartbeat that reports the run cancelled aborts the
 * task, which is then completed as failed (the Scheduler records it as cancelled). A lost lease
 * (409) aborts it and throws its output away: nothing more is sent for it. A stop aborts it and
 * releases the lease, so that the task is ready again without spending an attempt.
 */

/** Why a task's signal was aborted. */
export type TaskAbortReason = 'cancelled' | 'lease_lost' | 'stopping';

/** How a leased task ended: completed (with the Scheduler's verdict), released, or dropped. */
export type LeasedTaskEnd =
  | { readonly as: 'completed'; readonly taskStatus: string }
  | { readonly as: 'released' }
  | { readonly as: 'discarded'; readonly reason: string };

/** A claimed task being worked. */
export class LeasedTask {
  readonly id: string;
  readonly epoch: number;
  /** Settles (never rejects) when nothing more is done for the task. */
  readonly ended: Promise<LeasedTaskEnd>;
  readonly #claimed: ClaimedTaskInfo;
  readonly #settings: WorkerSettings;
  readonly #heartbeatMs: number;
  readonly #logger: Logger;
  readonly #task = new AbortController();
  readonly #calls = new AbortController();
  readonly #heartbeats = new AbortController();
  readonly #logs: LogBatches;
  #abortReason: TaskAbortReason | undefined;

  constructor(claimed: ClaimedTaskInfo, settings: WorkerSettings, heartbeatMs: number) {
    this.id = claimed.id;
    this.epoch = claimed.epoch;
    this.#claimed = claimed;
    this.#settings = settings;
    this.#heartbeatMs = heartbeatMs;
    this.#logger = settings.logger.child({ taskId: claimed.id, runId: claimed.task.runId });
    this.#logs = new LogBatches(
      (seq, lines) => this.#sendLogs(seq, lines),
      settings.logFlushMs,
      (error) => this.#onCallError('log batch', error),
    );
    this.ended = this.#work();
  }

  /** Stops the task for a worker stop: aborts it, or its completion, then releases the lease. */
  abortForStop(): void {
    this.#abort('stopping');
    this.#calls.abort(this.#task.signal.reason);
  }

  async #work(): Promise<LeasedTaskEnd> {
    this.#logger.debug(
      { kind: this.#claimed.task.kind, attempt: this.#claimed.attempt },
      'task started',
    );
    void this.#beat();
    try {
      const outcome = await this.#run();
      this.#logger.debug(
        { status: outcome?.status, abortedBy: this.#abortReason },
        'task finished',
      );
      if (this.#abortReason === 'lease_lost') return { as: 'discarded', reason: 'lease lost' };
      if (this.#abortReason === 'stopping' || outcome === undefined) return await this.#release();
      return await this.#complete(outcome);
    } finally {
      this.#heartbeats.abort();
      this.#logs.close();
    }
  }

  /** Runs the task function; undefined when it did not settle in time after an abort. */
  async #run(): Promise<WorkerTaskOutcome | undefined> {
    const running = this.#settings
      .runTask(this.#claimed.task as unknown as Task, {
        signal: this.#task.signal,
        log: (level, message) => this.#logs.add(level, message),
        attempt: this.#claimed.attempt,
      })
      .catch((error: unknown) => thrownOutcome(error));
    const gaveUp = this.#afterAbort(this.#settings.abortWaitMs).then(() => undefined);
    const outcome = await Promise.race([running, gaveUp]);
    if (outcome === undefined) {
      this.#logger.warn({ waitedMs: this.#settings.abortWaitMs }, 'aborted task did not stop');
    }
    return outcome;
  }

  async #complete(outcome: WorkerTaskOutcome): Promise<LeasedTaskEnd> {
    const final = this.#abortReason === 'cancelled' ? cancelledOutcome(outcome) : outcome;
    await this.#logs.flush();
    const key = randomUUID();
    try {
      const answer = await this.#settings.connection.complete(
        this.id,
        completionOf(this.epoch, final),
        key,
        this.#calls.signal,
      );
      this.#logger.debug({ taskStatus: answer.task_status }, 'task completed');
      return { as: 'completed', taskStatus: answer.task_status };
    } catch (error) {
      if (this.#abortReason === 'stopping') return this.#release();
      this.#onCallError('completion', error);
      return { as: 'discarded', reason: this.#abortReason ?? 'completion refused' };
    }
  }

  /** Gives the lease back, waiting at most the release timeout; past it the lease expires. */
  async #release(): Promise<LeasedTaskEnd> {
    const signal = AbortSignal.timeout(this.#settings.releaseTimeoutMs);
    try {
      await this.#settings.connection.release(this.id, this.epoch, signal);
      this.#logger.debug({}, 'task released');
      return { as: 'released' };
    } catch (error) {
      this.#logger.warn({ code: codeOf(error) }, 'could not release a task; its lease will expire');
      return { as: 'discarded', reason: 'release failed' };
    }
  }

  /** Renews the lease every interval until the task ends or the lease is lost. */
  async #beat(): Promise<void> {
    const signal = this.#heartbeats.signal;
    while (!signal.aborted) {
      try {
        await sleep(this.#heartbeatMs, signal);
        const answer = await this.#settings.connection.heartbeat(this.id, this.epoch, signal);
        if (answer.cancel_requested && this.#abortReason === undefined) {
          this.#logger.debug({}, 'task cancelled by the Scheduler');
          this.#abort('cancelled');
        }
      } catch (error) {
        if (signal.aborted) return;
        this.#onCallError('heartbeat', error);
      }
    }
  }

  async #sendLogs(seq: number, lines: readonly LogLine[]): Promise<void> {
    const request = { epoch: this.epoch, seq, lines: [...lines] };
    await this.#settings.connection.sendLogs(this.id, request, this.#calls.signal);
  }

  /** A refused call: a lost lease aborts the task for good; anything else is logged. */
  #onCallError(call: string, error: unknown): void {
    if (this.#calls.signal.aborted) return;
    const code = codeOf(error);
    if (code === 'lease_lost' || code === 'lease_not_held' || code === 'task_not_found') {
      this.#logger.warn({ call, code }, 'task lease lost; its output is discarded');
      this.#abort('lease_lost');
      this.#calls.abort(this.#task.signal.reason);
      this.#heartbeats.abort();
      return;
    }
    this.#logger.warn({ call, code, reason: messageOf(error) }, 'task call failed');
  }

  #abort(reason: TaskAbortReason): void {
    if (this.#task.signal.aborted) return;
    this.#abortReason = reason;
    this.#task.abort(new SluiceError('query_cancelled', abortMessage(this.id, reason)));
  }

  /** Resolves `waitMs` after the task's signal aborts; never while it does not. */
  #afterAbort(waitMs: number): Promise<void> {
    const signal = this.#task.signal;
    return new Promise((resolve) => {
      const wait = () => setTimeout(resolve, waitMs).unref();
      if (signal.aborted) wait();
      else signal.addEventListener('abort', wait, { once: true });
    });
  }
}

/** The completion's body: the outcome in its wire form and what the engine said it used. */
export function completionOf(epoch: number, outcome: WorkerTaskOutcome): CompleteRequest {
  const wire = outcomeToWire({ ...outcome, durationMs: wholeCount(outcome.durationMs) });
  const outcomeInfo =
    wire.status === 'succeeded' ? { ...wire, rows_written: wholeCount(wire.rows_written) } : wire;
  const usage = outcome.usage;
  const cost = {
    ...(usage?.bytesScanned === undefined ? {} : { bytes_scanned: wholeCount(usage.bytesScanned) }),
    ...(usage?.engineQueryIds === undefined
      ? {}
      : { engine_query_ids: usage.engineQueryIds.slice(0, 1000) }),
  };
  return Object.keys(cost).length === 0
    ? { epoch, outcome: outcomeInfo }
    : { epoch, outcome: outcomeInfo, cost };
}

/** A cancelled task's outcome: failed, not retryable, unless it had already succeeded. */
function cancelledOutcome(outcome: WorkerTaskOutcome): WorkerTaskOutcome {
  if (outcome.status === 'succeeded') return outcome;
  return {
    ...outcome,
    error: {
      code: 'query_cancelled',
      message: 'The run was cancelled while the task ran',
      isRetryable: false,
    },
  };
}

function thrownOutcome(error: unknown): WorkerTaskOutcome {
  const isSluice = error instanceof SluiceError;
  return {
    status: 'failed',
    durationMs: 0,
    error: {
      code: isSluice ? error.code : 'internal',
      // Only SluiceError messages are free of secrets by rule; others are not repeated.
      message: isSluice ? error.message : 'The task runner failed unexpectedly',
      isRetryable: isSluice ? error.retryable : false,
    },
  };
}

function abortMessage(taskId: string, reason: TaskAbortReason): string {
  if (reason === 'cancelled') return `Task '${taskId}' was cancelled with its run`;
  if (reason === 'lease_lost') return `Task '${taskId}' is no longer leased to this Executor`;
  return `Task '${taskId}' was stopped because the Executor is stopping`;
}

function wholeCount(value: number): number {
  return Number.isFinite(value) ? Math.max(0, Math.round(value)) : 0;
}

function codeOf(error: unknown): string {
  return error instanceof SluiceError ? error.code : 'internal';
}

function messageOf(error: unknown): string {
  return error instanceof SluiceError ? error.message : 'unexpected failure';
}
