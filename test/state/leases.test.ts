import { afterEach, describe, expect, it } from 'vitest';
import {
  type LeaseRequest,
  readLease,
  releaseLease,
  renewLease,
  tryAcquireLease,
} from '../../src/state/leases.js';
import { openStateStore } from '../../src/state/open-state-store.js';
import type { StateStore } from '../../src/state/state-store.js';
import type { StateLocation } from '../../src/state/state-types.js';
import {
  stateBackendsUnderTest,
  type TestStateLocation,
  testKeyRing,
  testStateKey,
} from '../helpers/state-backends.js';

const ring = testKeyRing(testStateKey('k1'));
const KEY = 'version:shop.orders/aaaaaaaaaaaa';
const TTL_MS = 30_000;
const START_MS = Date.UTC(2024, 0, 1);

/** A request of `owner` for the test key at `nowMs`. */
function requestOf(owner: string, nowMs = START_MS): LeaseRequest {
  return { key: KEY, owner, ttlMs: TTL_MS, nowMs };
}

for (const backend of stateBackendsUnderTest()) {
  describe.skipIf(backend.skipReason !== '')(`leases on ${backend.name}`, () => {
    let test: TestStateLocation | undefined;
    const stores: StateStore[] = [];

    async function open(location: StateLocation): Promise<StateStore> {
      const store = await openStateStore({ location, keyRing: ring, shouldMigrate: true });
      stores.push(store);
      return store;
    }

    async function openFresh(): Promise<StateStore> {
      test = await backend.create();
      return open(test.location);
    }

    afterEach(async () => {
      for (const store of stores.splice(0)) await store.close();
      await test?.cleanup();
      test = undefined;
    });

    it('reads no holder for a lease nobody took', async () => {
      const store = await openFresh();

      expect(await readLease(store, KEY)).toBeUndefined();
    });

    it('takes a free lease until now plus the time to live', async () => {
      const store = await openFresh();

      expect(await tryAcquireLease(store, requestOf('host/1/run-a'))).toBe(true);

      expect(await readLease(store, KEY)).toEqual({
        owner: 'host/1/run-a',
        expiresAtMs: START_MS + TTL_MS,
      });
    });

    it('refuses a held lease to another owner and leaves its holder alone', async () => {
      const store = await openFresh();
      await tryAcquireLease(store, requestOf('host/1/run-a'));

      const isTaken = await tryAcquireLease(store, requestOf('host/2/run-b', START_MS + 1000));

      expect(isTaken).toBe(false);
      expect(await readLease(store, KEY)).toEqual({
        owner: 'host/1/run-a',
        expiresAtMs: START_MS + TTL_MS,
      });
    });

    it('gives an expired lease to another owner', async () => {
      const store = await openFresh();
      await tryAcquireLease(store, requestOf('host/1/run-a'));
      const laterMs = START_MS + TTL_MS + 1;

      const isTaken = await tryAcquireLease(store, requestOf('host/2/run-b', laterMs));

      expect(isTaken).toBe(true);
      expect(await readLease(store, KEY)).toEqual({
        owner: 'host/2/run-b',
        expiresAtMs: laterMs + TTL_MS,
      });
    });

    it('lets its owner take a lease it holds again, with a later expiry', async () => {
      const store = await openFresh();
      await tryAcquireLease(store, requestOf('host/1/run-a'));

      const isTaken = await tryAcquireLease(store, requestOf('host/1/run-a', START_MS + 5000));

      expect(isTaken).toBe(true);
      expect(await readLease(store, KEY)).toEqual({
        owner: 'host/1/run-a',
        expiresAtMs: START_MS + 5000 + TTL_MS,
      });
    });

    it('extends a lease its owner renews', async () => {
      const store = await openFresh();
      await tryAcquireLease(store, requestOf('host/1/run-a'));

      const isRenewed = await renewLease(store, requestOf('host/1/run-a', START_MS + 20_000));

      expect(isRenewed).toBe(true);
      expect(await readLease(store, KEY)).toEqual({
        owner: 'host/1/run-a',
        expiresAtMs: START_MS + 20_000 + TTL_MS,
      });
      const isTaken = await tryAcquireLease(
        store,
        requestOf('host/2/run-b', START_MS + TTL_MS + 1),
      );
      expect(isTaken).toBe(false);
    });

    it('fails to renew a lease that another owner took after it expired', async () => {
      const store = await openFresh();
      await tryAcquireLease(store, requestOf('host/1/run-a'));
      const laterMs = START_MS + TTL_MS + 1;
      await tryAcquireLease(store, requestOf('host/2/run-b', laterMs));

      const isRenewed = await renewLease(store, requestOf('host/1/run-a', laterMs + 1));

      expect(isRenewed).toBe(false);
      expect(await readLease(store, KEY)).toEqual({
        owner: 'host/2/run-b',
        expiresAtMs: laterMs + TTL_MS,
      });
    });

    it('fails to renew a lease that nobody holds', async () => {
      const store = await openFresh();

      expect(await renewLease(store, requestOf('host/1/run-a'))).toBe(false);
      expect(await readLease(store, KEY)).toBeUndefined();
    });

    it('ignores a release by an owner that does not hold the lease', async () => {
      const store = await openFresh();
      await tryAcquireLease(store, requestOf('host/1/run-a'));

      await releaseLease(store, KEY, 'host/2/run-b');

      expect(await readLease(store, KEY)).toEqual({
        owner: 'host/1/run-a',
        expiresAtMs: START_MS + TTL_MS,
      });
    });

    it('frees a lease its owner releases, so that another owner takes it at once', async () => {
      const store = await openFresh();
      await tryAcquireLease(store, requestOf('host/1/run-a'));

      await releaseLease(store, KEY, 'host/1/run-a');

      expect(await readLease(store, KEY)).toBeUndefined();
      expect(await tryAcquireLease(store, requestOf('host/2/run-b', START_MS + 1))).toBe(true);
    });

    it('takes a live lease from the owner the caller names as stale, and only from it', async () => {
      const store = await openFresh();
      await tryAcquireLease(store, requestOf('host/1/run-a'));
      const soonMs = START_MS + 1000;

      const fromOther = await tryAcquireLease(store, requestOf('host/2/run-b', soonMs), 'host/3/x');
      const fromStale = await tryAcquireLease(
        store,
        requestOf('host/2/run-b', soonMs),
        'host/1/run-a',
      );

      expect(fromOther).toBe(false);
      expect(fromStale).toBe(true);
      expect(await readLease(store, KEY)).toEqual({
        owner: 'host/2/run-b',
        expiresAtMs: soonMs + TTL_MS,
      });
    });

    it('keeps leases with different keys apart', async () => {
      const store = await openFresh();
      await tryAcquireLease(store, requestOf('host/1/run-a'));

      const other = { ...requestOf('host/2/run-b'), key: 'version:shop.items/bbbbbbbbbbbb' };

      expect(await tryAcquireLease(store, other)).toBe(true);
      expect((await readLease(store, KEY))?.owner).toBe('host/1/run-a');
    });

    /** Two owners race from two stores for each of 25 keys; how many won each, and who holds it. */
    async function race(first: StateStore, second: StateStore, nowMs: number) {
      const keys = Array.from({ length: 25 }, (_, index) => `version:race/${index}`);
      return Promise.all(
        keys.map(async (key) => {
          const [isFirstWinner, isSecondWinner] = await Promise.all([
            tryAcquireLease(first, { ...requestOf('host/1/run-a', nowMs), key }),
            tryAcquireLease(second, { ...requestOf('host/2/run-b', nowMs), key }),
          ]);
          const winner = isFirstWinner ? 'host/1/run-a' : 'host/2/run-b';
          const winners = [isFirstWinner, isSecondWinner].filter(Boolean).length;
          return { winners, winner, holder: (await readLease(first, key))?.owner };
        }),
      );
    }

    it('gives a free lease to exactly one of two owners racing from two stores', async () => {
      const first = await openFresh();
      const second = await open(first.location);

      const outcomes = await race(first, second, START_MS);

      for (const outcome of outcomes) {
        expect(outcome.winners).toBe(1);
        expect(outcome.holder).toBe(outcome.winner);
      }
    });

    it('gives an expired lease to exactly one of two owners racing from two stores', async () => {
      const first = await openFresh();
      const second = await open(first.location);
      for (let index = 0; index < 25; index++) {
        await tryAcquireLease(first, { ...requestOf('host/9/gone'), key: `version:race/${index}` });
      }

      const outcomes = await race(first, second, START_MS + TTL_MS + 1);

      for (const outcome of outcomes) {
        expect(outcome.winners).toBe(1);
        expect(outcome.holder).toBe(outcome.winner);
      }
    });
  });
}
