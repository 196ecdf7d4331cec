import { afterEach, describe, expect, it, vi } from 'vitest';
import { SluiceError } from '../../../src/core/errors.js';
import { createClient, revokeClientAccess } from '../../../src/scheduler/auth/client-registry.js';
import { RevocationList } from '../../../src/scheduler/auth/revocation-list.js';
import { openStateStore } from '../../../src/state/open-state-store.js';
import type { StateStore } from '../../../src/state/state-store.js';
import { errorOf } from '../../helpers/errors.js';
import { manualClock } from '../../helpers/manual-clock.js';
import {
  stateBackendsUnderTest,
  type TestStateLocation,
  testKeyRing,
  testStateKey,
} from '../../helpers/state-backends.js';

const ring = testKeyRing(testStateKey('k1'));
const HOUR_MS = 3_600_000;

for (const backend of stateBackendsUnderTest()) {
  describe.skipIf(backend.skipReason !== '')(`revocation list on ${backend.name}`, () => {
    let test: TestStateLocation | undefined;
    let store: StateStore | undefined;
    const lists: RevocationList[] = [];

    async function openFresh(): Promise<StateStore> {
      test = await backend.create();
      store = await openStateStore({ location: test.location, keyRing: ring, shouldMigrate: true });
      return store;
    }

    async function openList(
      on: StateStore,
      options: Parameters<typeof RevocationList.open>[1] = {},
    ): Promise<RevocationList> {
      const list = await RevocationList.open(on, { refreshIntervalMs: HOUR_MS, ...options });
      lists.push(list);
      return list;
    }

    afterEach(async () => {
      for (const list of lists.splice(0)) list.close();
      await store?.close();
      await test?.cleanup();
      store = undefined;
      test = undefined;
    });

    it('knows the clients revoked before it was opened', async () => {
      const store = await openFresh();
      await createClient(store, { clientId: 'old', roles: ['viewer'], actor: 'a' });
      await createClient(store, { clientId: 'live', roles: ['viewer'], actor: 'a' });
      await revokeClientAccess(store, { clientId: 'old', actor: 'a' });

      const list = await openList(store);

      expect(list.isRevoked('old')).toBe(true);
      expect(list.isRevoked('live')).toBe(false);
    });

    it('sees a revocation made through another list after it refreshes', async () => {
      const store = await openFresh();
      await createClient(store, { clientId: 'svc', roles: ['viewer'], actor: 'a' });
      const here = await openList(store);
      const elsewhere = await openList(store);

      await revokeClientAccess(store, { clientId: 'svc', actor: 'a' });
      here.markRevoked('svc');

      expect(here.isRevoked('svc')).toBe(true);
      expect(elsewhere.isRevoked('svc')).toBe(false);
      await elsewhere.refresh();
      expect(elsewhere.isRevoked('svc')).toBe(true);
    });

    it('refreshes on its own timer', async () => {
      const store = await openFresh();
      await createClient(store, { clientId: 'svc', roles: ['viewer'], actor: 'a' });
      const list = await openList(store, { refreshIntervalMs: 20 });

      await revokeClientAccess(store, { clientId: 'svc', actor: 'a' });

      await vi.waitFor(() => expect(list.isRevoked('svc')).toBe(true), { timeout: 10_000 });
    });

    it('keeps a revocation marked here even when a refresh does not show it', async () => {
      const store = await openFresh();
      const list = await openList(store);

      list.markRevoked('svc');
      await list.refresh();

      expect(list.isRevoked('svc')).toBe(true);
    });

    it('answers from the last list while the store is briefly unreachable', async () => {
      const store = await openFresh();
      const clock = manualClock();
      const list = await openList(store, { clock: clock.now, maxStaleMs: 30_000 });

      await store.close();
      const refreshError = await list.refresh().catch((error: unknown) => error);
      clock.advance(30_000);

      expect(refreshError).toBeInstanceOf(Error);
      expect(list.isRevoked('svc')).toBe(false);
    });

    it('fails closed once the list could not be refreshed for longer than maxStaleMs', async () => {
      const store = await openFresh();
      const clock = manualClock();
      const list = await openList(store, { clock: clock.now, maxStaleMs: 30_000 });

      await store.close();
      await list.refresh().catch(() => undefined);
      clock.advance(30_001);

      let error: unknown;
      try {
        list.isRevoked('svc');
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(SluiceError);
      expect((error as SluiceError).code).toBe('state_unreachable');
      expect((error as SluiceError).retryable).toBe(true);
      expect((error as SluiceError).message).toContain('state store');
    });

    it('cannot be opened when the store cannot be read', async () => {
      const store = await openFresh();
      await store.close();

      const error = await RevocationList.open(store).then(
        () => undefined,
        (caught: unknown) => caught,
      );

      expect(error).toBeInstanceOf(Error);
    });

    it('refuses a refresh interval that is not positive', async () => {
      const store = await openFresh();

      const error = await errorOf(RevocationList.open(store, { refreshIntervalMs: 0 }));

      expect(error.code).toBe('usage');
    });
  });
}
