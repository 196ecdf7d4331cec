import { SluiceError } from '../../core/errors.js';

/**
 * Token buckets in memory, one per key (a client id, a remote address). Each request takes one
 * token; a bucket refills continuously up to its capacity. The limit is per Scheduler process:
 * replicas each keep their own buckets, so N replicas behind a load balancer admit up to N times
 * the rate. That is enough to slow brute force on the token endpoint, whose every attempt also
 * costs a slow hash, without a shared store on the hot path.
 *
 * The number of keys kept is capped so that requests under ever new keys cannot grow memory. At
 * the cap, full buckets are dropped first (a full bucket is what a new key starts with, so
 * nothing is forgotten); only when the oldest entries are all in use is the least recently used
 * bucket dropped, which forgives that key. Callers that key by something an attacker chooses
 * should also keep one bucket for all requests as a backstop.
 */

/** How many requests a key may make at once, and how fast that allowance comes back. */
export type RateLimit = { readonly capacity: number; readonly refillPerSec: number };

/** Whether a request may go ahead, and if not, when to try again. */
export type RateDecision =
  | { readonly isAllowed: true }
  | { readonly isAllowed: false; readonly retryAfterSec: number };

type Bucket = { tokens: number; updatedMs: number };

/** How many of the least recently used buckets are looked at for full ones at the cap. */
const SWEEP_LIMIT = 64;

const ALLOWED: RateDecision = { isAllowed: true };

/** Token buckets keyed by string, at most `maxKeys` of them. */
export class RateLimiter {
  readonly #limit: RateLimit;
  readonly #maxKeys: number;
  /** In order of last use, least recent first (a Map keeps insertion order). */
  readonly #buckets = new Map<string, Bucket>();

  constructor(limit: RateLimit, maxKeys = 10_000) {
    if (!(limit.capacity >= 1) || !(limit.refillPerSec > 0)) {
      throw new SluiceError(
        'usage',
        'A rate limit needs a capacity of at least 1 and a positive refill rate; ' +
          `got capacity ${limit.capacity} and ${limit.refillPerSec} per second`,
      );
    }
    if (!Number.isInteger(maxKeys) || maxKeys < 1) {
      throw new SluiceError('usage', `A rate limiter must keep at least 1 key; got ${maxKeys}`);
    }
    this.#limit = limit;
    this.#maxKeys = maxKeys;
  }

  /** Takes one token from `key`'s bucket, or says how long until one is there. */
  take(key: string, nowMs: number = Date.now()): RateDecision {
    const bucket = this.#touch(key, nowMs);

    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return ALLOWED;
    }
    const waitSec = (1 - bucket.tokens) / this.#limit.refillPerSec;
    return { isAllowed: false, retryAfterSec: Math.max(1, Math.ceil(waitSec)) };
  }

  /** How many keys are kept now. */
  get size(): number {
    return this.#buckets.size;
  }

  #touch(key: string, nowMs: number): Bucket {
    const existing = this.#buckets.get(key);
    if (existing !== undefined) {
      this.#buckets.delete(key);
      this.#buckets.set(key, existing);
      this.#refill(existing, nowMs);
      return existing;
    }

    if (this.#buckets.size >= this.#maxKeys) this.#makeRoom(nowMs);
    const bucket = { tokens: this.#limit.capacity, updatedMs: nowMs };
    this.#buckets.set(key, bucket);
    return bucket;
  }

  #refill(bucket: Bucket, nowMs: number): void {
    // A clock that steps back refills nothing rather than draining the bucket.
    const elapsedSec = Math.max(0, nowMs - bucket.updatedMs) / 1000;
    bucket.tokens = Math.min(
      this.#limit.capacity,
      bucket.tokens + elapsedSec * this.#limit.refillPerSec,
    );
    bucket.updatedMs = Math.max(bucket.updatedMs, nowMs);
  }

  #makeRoom(nowMs: number): void {
    let looked = 0;
    let dropped = 0;
    for (const [key, bucket] of this.#buckets) {
      if (looked++ >= SWEEP_LIMIT) break;
      this.#refill(bucket, nowMs);
      if (bucket.tokens >= this.#limit.capacity) {
        this.#buckets.delete(key);
        dropped++;
      }
    }

    if (dropped > 0) return;
    const leastRecent = this.#buckets.keys().next();
    if (leastRecent.done !== true) this.#buckets.delete(leastRecent.value);
  }
}
