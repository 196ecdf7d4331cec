import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  callApi,
  createTestClient,
  startTestScheduler,
  type TestScheduler,
} from '../../helpers/scheduler-service.js';
import { stateBackendsUnderTest } from '../../helpers/state-backends.js';

for (const backend of stateBackendsUnderTest()) {
  describe.skipIf(backend.skipReason !== '')(
    `client and audit log routes on ${backend.name}`,
    () => {
      let scheduler: TestScheduler;
      let adminToken: string;

      const admin = (path: string, json?: unknown) =>
        callApi(scheduler, path, { token: adminToken, ...(json === undefined ? {} : { json }) });

      beforeAll(async () => {
        scheduler = await startTestScheduler(backend);
        adminToken = await scheduler.tokenFor(scheduler.admin.clientId, scheduler.admin.secret);
      });

      afterAll(async () => {
        await scheduler?.close();
      });

      it('creates a client and shows its secret once', async () => {
        const created = await admin('/v1/clients', {
          client_id: 'ci-runner',
          roles: ['developer'],
        });
        expect(created.status).toBe(201);
        expect(created.json.client).toMatchObject({
          client_id: 'ci-runner',
          roles: ['developer'],
          revoked_at: null,
        });
        const secret = created.json.client_secret as string;
        expect(await scheduler.tokenFor('ci-runner', secret)).toEqual(expect.any(String));

        const listed = await admin('/v1/clients');
        expect(listed.status).toBe(200);
        expect(listed.text).not.toContain(secret);
        expect(listed.text).not.toContain('scrypt');
        expect(
          listed.json.clients.map((client: { client_id: string }) => client.client_id),
        ).toEqual(expect.arrayContaining(['admin', 'ci-runner']));
      });

      it('answers 409 for a client id that is taken', async () => {
        const answer = await admin('/v1/clients', { client_id: 'admin', roles: ['viewer'] });
        expect(answer.status).toBe(409);
        expect(answer.json.error.code).toBe('client_exists');
      });

      it('rotates a secret: both work in the grace; the answer has only the new one', async () => {
        const first = (await admin('/v1/clients', { client_id: 'rotating', roles: ['viewer'] }))
          .json.client_secret as string;

        const rotated = await admin('/v1/clients/rotating/rotate-secret', { grace_sec: 3600 });
        expect(rotated.status).toBe(200);
        const second = rotated.json.client_secret as string;
        expect(second).not.toBe(first);
        expect(rotated.text).not.toContain(first);
        expect(rotated.json.client.secrets).toHaveLength(2);

        expect(await scheduler.tokenFor('rotating', first)).toEqual(expect.any(String));
        expect(await scheduler.tokenFor('rotating', second)).toEqual(expect.any(String));
      });

      it('rotates with the default grace when the body is empty or absent', async () => {
        await admin('/v1/clients', { client_id: 'rotating-2', roles: ['viewer'] });
        expect((await admin('/v1/clients/rotating-2/rotate-secret', {})).status).toBe(200);
        const bare = await callApi(scheduler, '/v1/clients/rotating-2/rotate-secret', {
          method: 'POST',
          token: adminToken,
        });
        expect(bare.status).toBe(200);
      });

      it('answers 404 for rotating or revoking a client that does not exist', async () => {
        expect((await admin('/v1/clients/ghost/rotate-secret', {})).json.error.code).toBe(
          'client_not_found',
        );
        const revoke = await admin('/v1/clients/ghost/revoke', {});
        expect(revoke.status).toBe(404);
      });

      it('revokes a client, whose token this Scheduler refuses at once', async () => {
        const victim = await createTestClient(scheduler, 'leaked', ['viewer']);
        expect((await callApi(scheduler, '/v1/environments', { token: victim.token })).status).toBe(
          200,
        );

        const revoked = await admin('/v1/clients/leaked/revoke', {});
        expect(revoked.status).toBe(200);
        expect(revoked.json.client.revoked_at).toEqual(expect.any(String));
        expect(revoked.json.client.secrets).toEqual([]);

        const refused = await callApi(scheduler, '/v1/environments', { token: victim.token });
        expect(refused.status).toBe(401);
        expect(refused.headers.get('www-authenticate')).toContain('error="invalid_token"');
        expect(refused.json.error.message).toContain('revoked');
      });

      it('refuses the client routes to anyone but an admin', async () => {
        const deployer = await createTestClient(scheduler, 'not-admin', ['deployer', 'viewer']);
        const answer = await callApi(scheduler, '/v1/clients', { token: deployer.token });
        expect(answer.status).toBe(403);
        expect(answer.json.error.message).toContain("'clients:manage'");
        expect(answer.json.error.message).toContain("'admin'");
        expect((await callApi(scheduler, '/v1/audit-log', { token: deployer.token })).status).toBe(
          403,
        );
      });

      it('pages the audit log oldest first by sequence number, with admin as actor', async () => {
        const all = await admin('/v1/audit-log?limit=1000');
        expect(all.status).toBe(200);
        const entries = all.json.entries as {
          seq: number;
          actor: string;
          action: string;
          subject: string;
        }[];
        expect(entries.map((entry) => entry.seq)).toEqual(
          [...entries.map((entry) => entry.seq)].sort((a, b) => a - b),
        );
        expect(entries).toContainEqual(
          expect.objectContaining({
            actor: 'admin',
            action: 'client.created',
            subject: 'ci-runner',
          }),
        );
        expect(entries).toContainEqual(
          expect.objectContaining({ actor: 'admin', action: 'client.revoked', subject: 'leaked' }),
        );

        const firstSeq = entries[0]?.seq ?? 0;
        const page = await admin(`/v1/audit-log?after=${firstSeq}&limit=2`);
        expect(page.json.entries.map((entry: { seq: number }) => entry.seq)).toEqual(
          entries.slice(1, 3).map((entry) => entry.seq),
        );
      });

      it('reports the audit chain intact, with its head', async () => {
        const answer = await admin('/v1/audit-log/verify');
        expect(answer.status).toBe(200);
        expect(answer.json).toMatchObject({
          intact: true,
          entries: expect.any(Number),
          head_seq: expect.any(Number),
          head_hash: expect.any(String),
        });
        expect(answer.json.problem).toBeUndefined();
      });
    },
  );
}
