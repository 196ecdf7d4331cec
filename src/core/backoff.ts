/**
 * Exponential backoff with jitter, for every retry loop: the delay doubles with each attempt up to
 * a ceiling, and a random share of it is taken off so that many callers that failed together do
 * not all come back at the same instant.
 */

/** How retries are spaced. */
export type BackoffPolicy = {
  /** The delay after the first failure, before jitter. */
  readonly baseDelayMs: number;
  /** The longest delay, before jitter. */
  readonly maxDelayMs: number;
};

/**
 * The delay before retry number `attempt` (1 for the first retry): `base * 2^(attempt-1)`,
 * capped at `maxDelayMs`, of which a random half is kept ("equal jitter"), so the delay lies in
 * `[d/2, d)`. `random` returns a number in `[0, 1)`.
 */
export function backoffDelayMs(
  attempt: number,
  policy: BackoffPolicy,
  random: () => number = Math.random,
): number {
  const exponent = Math.max(0, Math.min(attempt - 1, 52));
  const delayMs = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** exponent);
  return Math.floor(delayMs / 2 + (random() * delayMs) / 2);
}
