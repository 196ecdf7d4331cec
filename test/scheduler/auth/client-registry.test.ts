import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import {
  authenticateClient,
  bootstrapAdminClient,
  createClient,
  listClientInfos,
  revokeClientAccess,
  rotateClientSecret,
} from '../../../src/scheduler/auth/client-registry.js';
import { readAuditEntries } from '../../../src/state/audit-log.js';
import { readClient } from '../../../src/state/oauth-client-store.js';
import { openStateStore } from '../../../src/state/open-state-store.js';
import type { StateStore } from '../../../src/state/state-store.js';
import { errorOf } from '../../helpers/errors.js';
import {
  stateBackendsUnderTest,
  type TestStateLocation,
  testKeyRing,
  testStateKey,
} from '../../helpers/state-backends.js';

const ring = testKeyRing(testStateKey('k1'));
const T0 = new Date('2030-01-01T00:00:00.000Z');

function secondsAfter(start: Date, seconds: number): Date {
  return new Date(start.getTime() + seconds * 1000);
}

for (const backend of stateBackendsUnderTest()) {
  describe.skipIf(backend.skipReason !== '')(`OAuth client registry on ${backend.name}`, () => {
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

    it('creates a client whose secret authenticates it, and lists it with no hash', async () => {
      const store = await openFresh();

      const issued = await createClient(store, {
        clientId: 'ci-deployer',
        roles: ['deployer', 'viewer'],
        actor: 'alice',
        now: T0,
      });
      const listed = await listClientInfos(store);

      expect(issued.client).toEqual({
        client_id: 'ci-deployer',
        roles: ['deployer', 'viewer'],
        created_at: T0.toISOString(),
        revoked_at: null,
        secrets: [{ id: expect.any(String), created_at: T0.toISOString(), expires_at: null }],
      });
      expect(listed).toEqual([issued.client]);
      expect(JSON.stringify(listed)).not.toContain('scrypt');
      expect(await authenticateClient(store, 'ci-deployer', issued.secret, T0)).toEqual(
        issued.client,
      );
    });

    it('refuses a wrong secret, an unknown client and a client id that is not valid', async () => {
      const store = await openFresh();
      const issued = await createClient(store, { clientId: 'svc', roles: ['viewer'], actor: 'a' });

      expect(await authenticateClient(store, 'svc', `${issued.secret}x`)).toBeUndefined();
      expect(await authenticateClient(store, 'svc', '')).toBeUndefined();
      expect(await authenticateClient(store, 'nobody', issued.secret)).toBeUndefined();
      expect(await authenticateClient(store, 'Not Valid!', issued.secret)).toBeUndefined();
    });

    it('refuses a taken or bad client id and an unknown role, naming the field', async () => {
      const store = await openFresh();
      await createClient(store, { clientId: 'svc', roles: ['viewer'], actor: 'a' });

      const taken = await errorOf(
        createClient(store, { clientId: 'svc', roles: ['admin'], actor: 'a' }),
      );
      const badId = await errorOf(
        createClient(store, { clientId: 'Bad Id', roles: ['viewer'], actor: 'a' }),
      );
      const badRole = await errorOf(
        createClient(store, { clientId: 'x', roles: ['root' as 'admin'], actor: 'a' }),
      );
      const noRole = await errorOf(createClient(store, { clientId: 'y', roles: [], actor: 'a' }));

      expect(taken.code).toBe('client_exists');
      expect(badId.code).toBe('request_invalid');
      expect(badId.message).toContain('client_id');
      expect(badRole.code).toBe('request_invalid');
      expect(badRole.message).toContain("Role 'root'");
      expect(noRole.message).toContain('roles');
    });

    it('keeps no client whose audit entry could not be written', async () => {
      const store = await openFresh();
      // Without its audit table the store cannot record the change, so the change must not stay.
      await sql`DROP TABLE sluice_audit_log`.execute(store.db);

      const created = createClient(store, {
        clientId: 'unrecorded',
        roles: ['viewer'],
        actor: 'a',
      });

      await expect(created).rejects.toThrow(/sluice_audit_log/);
      expect(await readClient(store, 'unrecorded')).toBeUndefined();
    });

    it('keeps the previous secret working during the grace period and stops it after', async () => {
      const store = await openFresh();
      const first = await createClient(store, {
        clientId: 'svc',
        roles: ['executor:run'],
        actor: 'a',
        now: T0,
      });

      const second = await rotateClientSecret(store, {
        clientId: 'svc',
        graceSec: 3600,
        actor: 'a',
        now: secondsAfter(T0, 60),
      });

      const during = secondsAfter(T0, 60 + 3599);
      const after = secondsAfter(T0, 60 + 3600);
      expect(second.secret).not.toBe(first.secret);
      expect(second.client.secrets.map((secret) => secret.expires_at)).toEqual([
        secondsAfter(T0, 60 + 3600).toISOString(),
        null,
      ]);
      expect(await authenticateClient(store, 'svc', first.secret, during)).toBeDefined();
      expect(await authenticateClient(store, 'svc', second.secret, during)).toBeDefined();
      expect(await authenticateClient(store, 'svc', first.secret, after)).toBeUndefined();
      expect(await authenticateClient(store, 'svc', second.secret, after)).toBeDefined();
    });

    it('ends the previous secret at once when the grace is zero', async () => {
      const store = await openFresh();
      const first = await createClient(store, { clientId: 'svc', roles: ['viewer'], actor: 'a' });

      const second = await rotateClientSecret(store, { clientId: 'svc', graceSec: 0, actor: 'a' });

      expect(await authenticateClient(store, 'svc', first.secret)).toBeUndefined();
      expect(await authenticateClient(store, 'svc', second.secret)).toBeDefined();
    });

    it('keeps two secrets after a third rotation, and the oldest one stops working', async () => {
      const store = await openFresh();
      const issued = [
        await createClient(store, { clientId: 'svc', roles: ['viewer'], actor: 'a', now: T0 }),
      ];
      for (const minutes of [1, 2, 3]) {
        issued.push(
          await rotateClientSecret(store, {
            clientId: 'svc',
            actor: 'a',
            now: secondsAfter(T0, minutes * 60),
          }),
        );
      }

      const now = secondsAfter(T0, 240);
      const stored = await readClient(store, 'svc');
      const accepted = [];
      for (const { secret } of issued) {
        accepted.push((await authenticateClient(store, 'svc', secret, now)) !== undefined);
      }

      expect(stored?.secrets).toHaveLength(2);
      expect(issued.at(-1)?.client.secrets).toHaveLength(2);
      expect(accepted).toEqual([false, false, true, true]);
    });

    it('refuses a grace period that is negative, fractional or longer than 30 days', async () => {
      const store = await openFresh();
      await createClient(store, { clientId: 'svc', roles: ['viewer'], actor: 'a' });

      for (const graceSec of [-1, 1.5, 31 * 24 * 3600]) {
        const error = await errorOf(
          rotateClientSecret(store, { clientId: 'svc', graceSec, actor: 'a' }),
        );
        expect(error.code).toBe('request_invalid');
        expect(error.message).toContain('grace_sec');
      }
    });

    it('refuses to rotate the secret of an unknown client, naming it', async () => {
      const store = await openFresh();

      const error = await errorOf(rotateClientSecret(store, { clientId: 'ghost', actor: 'a' }));

      expect(error.code).toBe('client_not_found');
      expect(error.message).toContain("'ghost'");
    });

    it('revokes a client so its secrets no longer authenticate and it cannot rotate', async () => {
      const store = await openFresh();
      const first = await createClient(store, { clientId: 'svc', roles: ['viewer'], actor: 'a' });
      const second = await rotateClientSecret(store, { clientId: 'svc', actor: 'a' });

      const revoked = await revokeClientAccess(store, { clientId: 'svc', actor: 'a', now: T0 });
      const rotation = await errorOf(rotateClientSecret(store, { clientId: 'svc', actor: 'a' }));

      expect(revoked.revoked_at).toBe(T0.toISOString());
      expect(revoked.secrets).toEqual([]);
      expect(await authenticateClient(store, 'svc', first.secret)).toBeUndefined();
      expect(await authenticateClient(store, 'svc', second.secret)).toBeUndefined();
      expect(rotation.code).toBe('client_not_found');
      expect(rotation.message).toContain('revoked');
    });

    it('treats revoking a revoked client as done, without a second audit entry', async () => {
      const store = await openFresh();
      await createClient(store, { clientId: 'svc', roles: ['viewer'], actor: 'a' });
      const first = await revokeClientAccess(store, { clientId: 'svc', actor: 'a', now: T0 });

      const again = await revokeClientAccess(store, {
        clientId: 'svc',
        actor: 'b',
        now: secondsAfter(T0, 10),
      });

      const actions = (await readAuditEntries(store, { limit: 100 })).map((entry) => entry.action);
      expect(again).toEqual(first);
      expect(actions.filter((action) => action === 'client.revoked')).toHaveLength(1);
    });

    it('bootstraps the first admin client and refuses while an active admin exists', async () => {
      const store = await openFresh();

      const admin = await bootstrapAdminClient(store, { clientId: 'root', actor: 'operator' });
      const refused = await errorOf(
        bootstrapAdminClient(store, { clientId: 'root-2', actor: 'operator' }),
      );
      await revokeClientAccess(store, { clientId: 'root', actor: 'operator' });
      const again = await bootstrapAdminClient(store, { clientId: 'root-3', actor: 'operator' });

      expect(admin.client.roles).toEqual(['admin']);
      expect(refused.code).toBe('client_exists');
      expect(refused.message).toContain('sluice clients create');
      expect(again.client.client_id).toBe('root-3');
      expect((await listClientInfos(store)).map((client) => client.client_id)).toEqual([
        'root',
        'root-3',
      ]);
    });

    it('audits every change with roles and secret ids but never a secret or a hash', async () => {
      const store = await openFresh();
      const created = await bootstrapAdminClient(store, { clientId: 'root', actor: 'operator' });
      const viewer = await createClient(store, {
        clientId: 'dash',
        roles: ['viewer'],
        actor: 'root',
      });
      const rotated = await rotateClientSecret(store, { clientId: 'dash', actor: 'root' });
      await revokeClientAccess(store, { clientId: 'dash', actor: 'root' });

      const entries = await readAuditEntries(store, { limit: 100 });
      const text = JSON.stringify(entries);
      const hashes = (await readClient(store, 'root'))?.secrets.map((secret) => secret.hash) ?? [];

      expect(entries.map(({ actor, action, subject }) => [actor, action, subject])).toEqual([
        ['operator', 'client.created', 'root'],
        ['root', 'client.created', 'dash'],
        ['root', 'client.secret_rotated', 'dash'],
        ['root', 'client.revoked', 'dash'],
      ]);
      expect(entries[1]?.details).toEqual({
        roles: ['viewer'],
        secretId: viewer.client.secrets[0]?.id,
      });
      expect(entries[2]?.details).toMatchObject({ graceSec: 86400 });
      for (const secret of [created.secret, viewer.secret, rotated.secret]) {
        expect(text).not.toContain(secret);
        expect(text).not.toContain(secret.slice(3));
      }
      expect(hashes).toHaveLength(1);
      for (const hash of hashes) expect(text).not.toContain(hash.split('$')[5]);
      expect(text).not.toContain('scrypt');
    });
  });
}
