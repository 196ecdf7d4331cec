import { type RateDecision, type RateLimit, RateLimiter } from '../../auth/rate-limiter.js';

/**
 * Failed client authentications per remote address and client id. Each failure takes a token
 * from the key's bucket; once a failure finds the bucket empty the key is blocked until a token
 * is back, and a blocked key is refused before its secret is hashed, so guessing costs the
 * guesser time and the Scheduler no work. Successes take nothing. Like the limiter, this is per
 * Scheduler process.
 */
export class FailedAttempts {
  readonly #limiter: RateLimiter;
  readonly #maxKeys: number;
  /** Blocked keys and when each is let go, in the order they were blocked. */
  readonly #blockedUntilMs = new Map<string, number>();

  constructor(limit: RateLimit, maxKeys = 10_000) {
    this.#limiter = new RateLimiter(limit, maxKeys);
    this.#maxKeys = maxKeys;
  }

  /** Whether `key` may try now; if not, when it may try again. */
  check(key: string, nowMs: number = Date.now()): RateDecision {
    const untilMs = this.#blockedUntilMs.get(key);
    if (untilMs === undefined) return { isAllowed: true };
    if (untilMs <= nowMs) {
      this.#blockedUntilMs.delete(key);
      return { isAllowed: true };
    }
    return { isAllowed: false, retryAfterSec: Math.max(1, Math.ceil((untilMs - nowMs) / 1000)) };
  }

  /** Counts a failure; blocks the key when it has used up its allowance. */
  record(key: string, nowMs: number = Date.now()): void {
    const decision = this.#limiter.take(key, nowMs);
    if (decision.isAllowed) return;

    this.#blockedUntilMs.delete(key);
    this.#blockedUntilMs.set(key, nowMs + decision.retryAfterSec * 1000);
    // The oldest block ends first, so dropping it at the cap forgives the least.
    if (this.#blockedUntilMs.size > this.#maxKeys) {
      const oldest = this.#blockedUntilMs.keys().next();
      if (oldest.done !== true) this.#blockedUntilMs.delete(oldest.value);
    }
  }
}
