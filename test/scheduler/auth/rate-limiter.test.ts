import { describe, expect, it } from 'vitest';
import { SluiceError } from '../../../src/core/errors.js';
import { RateLimiter } from '../../../src/scheduler/auth/rate-limiter.js';

describe('rate limiter', () => {
  it('allows a burst up to capacity, then refuses with the seconds until a token is back', () => {
    const limiter = new RateLimiter({ capacity: 3, refillPerSec: 0.5 });

    const decisions = [0, 1, 2, 3].map(() => limiter.take('client-a', 1_000));

    expect(decisions.slice(0, 3)).toEqual([
      { isAllowed: true },
      { isAllowed: true },
      { isAllowed: true },
    ]);
    expect(decisions[3]).toEqual({ isAllowed: false, retryAfterSec: 2 });
  });

  it('refills over time at the given rate, never beyond the capacity', () => {
    const limiter = new RateLimiter({ capacity: 2, refillPerSec: 1 });
    limiter.take('k', 0);
    limiter.take('k', 0);

    expect(limiter.take('k', 500).isAllowed).toBe(false);
    expect(limiter.take('k', 1_000).isAllowed).toBe(true);
    expect(limiter.take('k', 1_000).isAllowed).toBe(false);

    const afterLongIdle = [0, 1, 2].map(() => limiter.take('k', 3_600_000).isAllowed);
    expect(afterLongIdle).toEqual([true, true, false]);
  });

  it('keeps a separate bucket per key', () => {
    const limiter = new RateLimiter({ capacity: 1, refillPerSec: 1 });

    expect(limiter.take('a', 0).isAllowed).toBe(true);
    expect(limiter.take('a', 0).isAllowed).toBe(false);
    expect(limiter.take('b', 0).isAllowed).toBe(true);
  });

  it('refills nothing when the clock steps back', () => {
    const limiter = new RateLimiter({ capacity: 1, refillPerSec: 1 });
    limiter.take('k', 10_000);

    expect(limiter.take('k', 5_000).isAllowed).toBe(false);
    expect(limiter.take('k', 10_500).isAllowed).toBe(false);
    expect(limiter.take('k', 11_000).isAllowed).toBe(true);
  });

  it('keeps no more keys than its cap however many keys are used', () => {
    const limiter = new RateLimiter({ capacity: 5, refillPerSec: 1 }, 100);

    for (let index = 0; index < 10_000; index++) limiter.take(`attacker-${index}`, 0);

    expect(limiter.size).toBeLessThanOrEqual(100);
  });

  it('drops full buckets before a drained one at the cap, so the drained key stays limited', () => {
    const limiter = new RateLimiter({ capacity: 2, refillPerSec: 1 }, 3);
    limiter.take('drained', 0);
    limiter.take('drained', 0);
    limiter.take('idle-1', 0);
    limiter.take('idle-2', 0);

    limiter.take('new', 1_500);

    expect(limiter.size).toBe(2);
    expect(limiter.take('drained', 1_500).isAllowed).toBe(true);
    expect(limiter.take('drained', 1_500).isAllowed).toBe(false);
  });

  it('drops the least recently used bucket when none is full', () => {
    const limiter = new RateLimiter({ capacity: 1, refillPerSec: 0.001 }, 2);
    limiter.take('oldest', 0);
    limiter.take('newer', 0);

    limiter.take('newest', 0);

    expect(limiter.size).toBe(2);
    expect(limiter.take('newer', 0).isAllowed).toBe(false);
    expect(limiter.take('oldest', 0).isAllowed).toBe(true);
  });

  it('refuses a limit that could never admit a request', () => {
    expect(() => new RateLimiter({ capacity: 0, refillPerSec: 1 })).toThrow(SluiceError);
    expect(() => new RateLimiter({ capacity: 1, refillPerSec: 0 })).toThrow(SluiceError);
    expect(() => new RateLimiter({ capacity: 1, refillPerSec: 1 }, 0)).toThrow(SluiceError);
  });
});
