import type { Logger } from '../../core/logger.js';
import type { Task } from '../../protocol/task.js';
import { appendRunEvents } from '../../state/runs/run-events.js';
import type { StateStore } from '../../state/state-store.js';
import type { RunEvent } from './run-state.js';

/**
 * Writes a run's events to the store as they happen, a few at a time, numbered in order, and
 * tells in-process followers when new ones are there. A task's event keeps what a reader shows
 * (kind, model, interval, audit, views) and drops the task's rendering context, which is large.
 */

/** How long events gather before they are written together. */
const FLUSH_DELAY_MS = 50;

/** Records the events of one run. */
export class RunRecorder {
  readonly #store: StateStore;
  readonly #runId: string;
  readonly #logger: Logger;
  readonly #onWritten: () => void;
  #buffer: unknown[] = [];
  #nextSeq = 1;
  #timer: NodeJS.Timeout | undefined;
  #writing: Promise<void> = Promise.resolve();

  constructor(store: StateStore, runId: string, logger: Logger, onWritten: () => void) {
    this.#store = store;
    this.#runId = runId;
    this.#logger = logger;
    this.#onWritten = onWritten;
  }

  /** Adds an event; it is written within a few tens of milliseconds. */
  record(event: RunEvent): void {
    this.#buffer.push(slimEvent(event));
    this.#timer ??= setTimeout(() => void this.flush(), FLUSH_DELAY_MS);
  }

  /** Writes what is gathered; resolves once everything recorded so far is written. */
  flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const events = this.#buffer;
    this.#buffer = [];
    if (events.length > 0) {
      const firstSeq = this.#nextSeq;
      this.#nextSeq += events.length;
      this.#writing = this.#writing.then(() => this.#write(firstSeq, events));
    }
    return this.#writing;
  }

  async #write(firstSeq: number, events: readonly unknown[]): Promise<void> {
    try {
      await appendRunEvents(this.#store, this.#runId, firstSeq, events, Date.now());
      this.#onWritten();
    } catch (error) {
      // Events are what followers read; the run itself goes on and its summary is still kept.
      this.#logger.warn({ err: error, count: events.length }, 'could not record run events');
    }
  }
}

function slimEvent(event: RunEvent): unknown {
  if (event.type !== 'task_started' && event.type !== 'task_finished') return event;
  return { ...event, task: slimTask(event.task) };
}

function slimTask(task: Task): unknown {
  if (task.kind === 'promote' || task.kind === 'cleanup') return task;
  const { context: _context, ...rest } = task;
  return rest;
}
