import { afterEach, describe, expect, it } from 'vitest';
import { SluiceError } from '../../src/core/errors.js';
import {
  addClientSecret,
  hasActiveClientWithRole,
  insertClient,
  listClients,
  listRevokedClientIds,
  readClient,
  revokeClient,
} from '../../src/state/oauth-client-store.js';
import { openStateStore } from '../../src/state/open-state-store.js';
import type { StateStore } from '../../src/state/state-store.js';
import { errorOf } from '../helpers/errors.js';
import {
  stateBackendsUnderTest,
  type TestStateLocation,
  testKeyRing,
  testStateKey,
} from '../helpers/state-backends.js';

const ring = testKeyRing(testStateKey('k1'));
const BEFORE_T0 = '2025-12-31T00:00:00.000Z';
const T0 = '2026-01-01T00:00:00.000Z';
const T1 = '2026-01-02T00:00:00.000Z';
const T2 = '2026-01-03T00:00:00.000Z';
const T3 = '2026-01-04T00:00:00.000Z';

/** A stand-in for an encoded slow hash; the store treats it as opaque text. */
function hashOf(name: string): string {
  return `scrypt$15$8$1$salt-${name}$hash-${name}`;
}

function newClient(clientId: string, roles: readonly string[] = ['viewer']) {
  return { clientId, roles, createdAt: T0, secret: { id: `${clientId}-s1`, hash: hashOf('s1') } };
}

function rotation(clientId: string, secretName: string, now: string, graceEndsAt: string) {
  return {
    clientId,
    secret: { id: `${clientId}-${secretName}`, hash: hashOf(secretName) },
    now,
    graceEndsAt,
  };
}

for (const backend of stateBackendsUnderTest()) {
  describe.skipIf(backend.skipReason !== '')(`OAuth clients on ${backend.name}`, () => {
    let test: TestStateLocation | undefined;
    let store: StateStore | undefined;

    async function openFresh(): Promise<StateStore> {
      test = await backend.create();
      store = await openStateStore({ location: test.location, keyRing: ring, shouldMigrate: true });
      return store;
    }

    afterEach(async () => {
      await store?.close();
      await test?.cleanup();
      store = undefined;
      test = undefined;
    });

    it('reads back a client with its roles and first secret', async () => {
      const store = await openFresh();

      const inserted = await insertClient(store, newClient('ci-deployer', ['deployer', 'viewer']));

      const expected = {
        clientId: 'ci-deployer',
        roles: ['deployer', 'viewer'],
        createdAt: T0,
        revokedAt: null,
        secrets: [{ id: 'ci-deployer-s1', hash: hashOf('s1'), createdAt: T0, expiresAt: null }],
      };
      expect(inserted).toEqual(expected);
      expect(await readClient(store, 'ci-deployer')).toEqual(expected);
      expect(await readClient(store, 'nobody')).toBeUndefined();
    });

    it('refuses a second client of the same id, also after the first was revoked', async () => {
      const store = await openFresh();
      await insertClient(store, newClient('ci'));

      const taken = await errorOf(insertClient(store, newClient('ci')));
      await revokeClient(store, 'ci', T1);
      const stillTaken = await errorOf(insertClient(store, newClient('ci')));

      for (const error of [taken, stillTaken]) {
        expect(error).toBeInstanceOf(SluiceError);
        expect((error as SluiceError).code).toBe('client_exists');
        expect((error as SluiceError).message).toContain("'ci'");
      }
    });

    it('lets exactly one of two simultaneous inserts of one id win', async () => {
      const store = await openFresh();

      const results = await Promise.allSettled([
        insertClient(store, newClient('racer')),
        insertClient(store, newClient('racer')),
      ]);

      expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
      const [rejected] = results.filter((result) => result.status === 'rejected');
      expect((rejected as PromiseRejectedResult).reason.code).toBe('client_exists');
      expect((await readClient(store, 'racer'))?.secrets).toHaveLength(1);
    });

    it('refuses a client without roles or with a role name holding a comma', async () => {
      const store = await openFresh();

      const none = await errorOf(insertClient(store, newClient('a', [])));
      const comma = await errorOf(insertClient(store, newClient('b', ['viewer,admin'])));

      expect((none as SluiceError).code).toBe('usage');
      expect((comma as SluiceError).code).toBe('usage');
      expect(await listClients(store)).toEqual([]);
    });

    it('lists every client by id, revoked ones included, each with its secrets', async () => {
      const store = await openFresh();
      for (const id of ['zeta', 'alpha', 'mid']) await insertClient(store, newClient(id));
      await addClientSecret(store, rotation('alpha', 's2', T1, T2));
      await revokeClient(store, 'mid', T1);

      const clients = await listClients(store);

      expect(clients.map((client) => client.clientId)).toEqual(['alpha', 'mid', 'zeta']);
      expect(clients.map((client) => client.secrets.map((secret) => secret.id))).toEqual([
        ['alpha-s1', 'alpha-s2'],
        [],
        ['zeta-s1'],
      ]);
      expect(clients.map((client) => client.revokedAt)).toEqual([null, T1, null]);
    });

    it('keeps the previous secret until the grace period ends when a secret rotates', async () => {
      const store = await openFresh();
      await insertClient(store, newClient('ci'));

      const after = await addClientSecret(store, rotation('ci', 's2', T1, T2));

      expect(after.secrets).toEqual([
        { id: 'ci-s1', hash: hashOf('s1'), createdAt: T0, expiresAt: T2 },
        { id: 'ci-s2', hash: hashOf('s2'), createdAt: T1, expiresAt: null },
      ]);
    });

    it('keeps at most two secrets, dropping the oldest when a third arrives', async () => {
      const store = await openFresh();
      await insertClient(store, newClient('ci'));
      await addClientSecret(store, rotation('ci', 's2', T1, T3));

      const after = await addClientSecret(store, rotation('ci', 's3', T2, T3));

      expect(after.secrets.map((secret) => [secret.id, secret.expiresAt])).toEqual([
        ['ci-s2', T3],
        ['ci-s3', null],
      ]);
    });

    it('never lengthens the grace of a previous secret that already expires', async () => {
      const store = await openFresh();
      await insertClient(store, newClient('ci'));
      // Only a clock that stepped back between rotations leaves the newest secret with an expiry:
      // s2 is recorded as older than s1, so s1 (expiring at T1) stays the newest.
      await addClientSecret(store, rotation('ci', 's2', BEFORE_T0, T1));

      const after = await addClientSecret(store, rotation('ci', 's3', T0, T3));

      expect(after.secrets.map((secret) => [secret.id, secret.expiresAt])).toEqual([
        ['ci-s1', T1],
        ['ci-s3', null],
      ]);
    });

    it('deletes secrets that have expired when a new one is added', async () => {
      const store = await openFresh();
      await insertClient(store, newClient('ci'));
      await addClientSecret(store, rotation('ci', 's2', T0, T1));

      // At T2 the grace of s1 (until T1) is over: only s2 is left to become the previous one.
      const after = await addClientSecret(store, rotation('ci', 's3', T2, T3));

      expect(after.secrets.map((secret) => [secret.id, secret.expiresAt])).toEqual([
        ['ci-s2', T3],
        ['ci-s3', null],
      ]);
    });

    it('refuses a new secret for a missing or revoked client', async () => {
      const store = await openFresh();
      await insertClient(store, newClient('gone'));
      await revokeClient(store, 'gone', T1);

      const missing = await errorOf(addClientSecret(store, rotation('nobody', 's2', T1, T2)));
      const revoked = await errorOf(addClientSecret(store, rotation('gone', 's2', T1, T2)));

      expect((missing as SluiceError).code).toBe('client_not_found');
      expect((missing as SluiceError).message).toContain("'nobody'");
      expect((revoked as SluiceError).code).toBe('usage');
      expect((await readClient(store, 'gone'))?.secrets).toEqual([]);
    });

    it('revokes a client once, keeping the first time, and deletes its secrets', async () => {
      const store = await openFresh();
      await insertClient(store, newClient('ci'));
      await addClientSecret(store, rotation('ci', 's2', T1, T2));

      const revoked = await revokeClient(store, 'ci', T1);
      const again = await revokeClient(store, 'ci', T3);

      expect(revoked).toMatchObject({ clientId: 'ci', revokedAt: T1, secrets: [] });
      expect(again).toEqual(revoked);
      const error = await errorOf(revokeClient(store, 'nobody', T1));
      expect((error as SluiceError).code).toBe('client_not_found');
    });

    it('lists the ids of revoked clients only', async () => {
      const store = await openFresh();
      for (const id of ['b', 'a', 'c']) await insertClient(store, newClient(id));
      await revokeClient(store, 'c', T1);
      await revokeClient(store, 'a', T1);

      expect(await listRevokedClientIds(store)).toEqual(['a', 'c']);
    });

    it('tells whether an unrevoked client holds a role', async () => {
      const store = await openFresh();
      await insertClient(store, newClient('root', ['admin']));
      await insertClient(store, newClient('reader', ['viewer']));
      await insertClient(store, newClient('administrator-of-nothing', ['administrator']));

      expect(await hasActiveClientWithRole(store, 'admin')).toBe(true);
      expect(await hasActiveClientWithRole(store, 'deployer')).toBe(false);
      await revokeClient(store, 'root', T1);
      expect(await hasActiveClientWithRole(store, 'admin')).toBe(false);
      expect(await hasActiveClientWithRole(store, 'viewer')).toBe(true);
    });
  });
}
