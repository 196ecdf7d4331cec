import type { TaskLogLevel } from './worker-options.js';

/**
 * The log lines of one attempt, buffered and sent in numbered batches (seq 1, 2, ...), one batch
 * at a time and in order. The Scheduler stores a batch once per (task, attempt, seq), so a batch
 * retried after a lost answer is not stored twice.
 */

/** One line as the protocol carries it. */
export type LogLine = {
  readonly at_ms: number;
  readonly level: TaskLogLevel;
  readonly message: string;
};

/** Sends one batch; the protocol client retries it until answered. */
export type SendBatch = (seq: number, lines: readonly LogLine[]) => Promise<void>;

/** The most lines in one batch (the protocol allows 1000). */
const MAX_BATCH_LINES = 500;

/** Longer messages are cut to this many characters, so that a batch stays well under 1 MiB. */
const MAX_MESSAGE_CHARS = 1500;

/** Buffers lines and sends them every `flushMs` and on `flush()`. */
export class LogBatches {
  readonly #send: SendBatch;
  readonly #onError: (error: unknown) => void;
  readonly #timer: NodeJS.Timeout;
  #buffer: LogLine[] = [];
  #nextSeq = 1;
  #sending: Promise<void> = Promise.resolve();
  #isClosed = false;

  constructor(send: SendBatch, flushMs: number, onError: (error: unknown) => void) {
    this.#send = send;
    this.#onError = onError;
    this.#timer = setInterval(() => void this.flush(), flushMs);
    this.#timer.unref();
  }

  /** Adds a line; dropped once the batches are closed. */
  add(level: TaskLogLevel, message: string): void {
    if (this.#isClosed) return;
    const text =
      message.length > MAX_MESSAGE_CHARS ? `${message.slice(0, MAX_MESSAGE_CHARS)}…` : message;
    this.#buffer.push({ at_ms: Date.now(), level, message: text });
  }

  /** Sends what is buffered; resolves once every batch so far was answered or failed. */
  flush(): Promise<void> {
    while (this.#buffer.length > 0 && !this.#isClosed) {
      const lines = this.#buffer.slice(0, MAX_BATCH_LINES);
      this.#buffer = this.#buffer.slice(MAX_BATCH_LINES);
      const seq = this.#nextSeq;
      this.#nextSeq += 1;
      this.#sending = this.#sending.then(() => this.#sendBatch(seq, lines));
    }
    return this.#sending;
  }

  /** Stops sending: lines not yet sent are dropped. */
  close(): void {
    this.#isClosed = true;
    this.#buffer = [];
    clearInterval(this.#timer);
  }

  async #sendBatch(seq: number, lines: readonly LogLine[]): Promise<void> {
    if (this.#isClosed) return;
    try {
      await this.#send(seq, lines);
    } catch (error) {
      this.#onError(error);
    }
  }
}
