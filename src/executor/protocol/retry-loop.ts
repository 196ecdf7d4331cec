import { type BackoffPolicy, backoffDelayMs } from '../../core/backoff.js';
import { SluiceError } from '../../core/errors.js';

/**
 * The retry loop every call of the protocol client runs in: an attempt that fails with a
 * retryable SluiceError (network failure, timeout, 5xx, 408, 429) is tried again after an
 * exponential, capped delay with jitter, for as long as it takes, until it is answered, fails
 * for good, or the caller's signal aborts.
 */

/** How a retry loop spaces and reports its attempts. */
export type RetryOptions = {
  readonly policy: BackoffPolicy;
  readonly signal?: AbortSignal;
  /** Told of each failed attempt that will be tried again, and the wait before it. */
  readonly onRetry?: (error: SluiceError, attempt: number, delayMs: number) => void;
  readonly random?: () => number;
};

/** Runs `attempt` until it returns or throws an error that is not retryable. */
export async function retryUntilAnswered<T>(
  attempt: () => Promise<T>,
  options: RetryOptions,
): Promise<T> {
  for (let count = 1; ; count += 1) {
    options.signal?.throwIfAborted();
    try {
      return await attempt();
    } catch (error) {
      options.signal?.throwIfAborted();
      if (!(error instanceof SluiceError) || !error.retryable) throw error;

      const delayMs = Math.max(
        backoffDelayMs(count, options.policy, options.random),
        retryAfterMsOf(error, options.policy),
      );
      options.onRetry?.(error, count, delayMs);
      await sleep(delayMs, options.signal);
    }
  }
}

/** A retryable error that says how long to wait, such as a 429's Retry-After. */
export class RetryAfterError extends SluiceError {
  readonly retryAfterMs: number;

  constructor(error: SluiceError, retryAfterMs: number) {
    super(error.code, error.message, { retryable: true });
    this.retryAfterMs = retryAfterMs;
  }
}

function retryAfterMsOf(error: SluiceError, policy: BackoffPolicy): number {
  return error instanceof RetryAfterError ? Math.min(error.retryAfterMs, policy.maxDelayMs) : 0;
}

/** Waits `delayMs`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(delayMs: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, delayMs);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
