import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAuditEntries } from '../../../src/state/audit-log.js';
import { readEnvironment, recordPromotion } from '../../../src/state/environment-store.js';
import {
  callApi,
  createTestClient,
  startTestScheduler,
  type TestClient,
  type TestScheduler,
} from '../../helpers/scheduler-service.js';
import { stateBackendsUnderTest } from '../../helpers/state-backends.js';

const WEEK_MS = 7 * 24 * 3600 * 1000;

for (const backend of stateBackendsUnderTest()) {
  describe.skipIf(backend.skipReason !== '')(`environment routes on ${backend.name}`, () => {
    let scheduler: TestScheduler;
    let viewer: TestClient;
    let developer: TestClient;
    let deployer: TestClient;

    async function promote(name: string, ttlMs: number | undefined) {
      await recordPromotion(scheduler.store, {
        name,
        baseRevision: 0,
        snapshotIds: { 'shop.orders': `snapshot-${name}` },
        planId: undefined,
        ttlMs,
        now: new Date(),
      });
    }

    const invalidate = (name: string, client: TestClient) =>
      callApi(scheduler, `/v1/environments/${name}/invalidate`, { token: client.token, json: {} });

    beforeAll(async () => {
      scheduler = await startTestScheduler(backend);
      await promote('prod', undefined);
      await promote('dev', WEEK_MS);
      await promote('feature_x', WEEK_MS);
      viewer = await createTestClient(scheduler, 'viewer-1', ['viewer']);
      developer = await createTestClient(scheduler, 'developer-1', ['developer']);
      deployer = await createTestClient(scheduler, 'deployer-1', ['deployer']);
    });

    afterAll(async () => {
      await scheduler?.close();
    });

    it('lists the environments for a viewer', async () => {
      const answer = await callApi(scheduler, '/v1/environments', { token: viewer.token });
      expect(answer.status).toBe(200);
      expect(
        answer.json.environments.map((environment: { name: string }) => environment.name),
      ).toEqual(['dev', 'feature_x', 'prod']);
      expect(answer.json.environments[2]).toMatchObject({
        name: 'prod',
        revision: 1,
        models: 1,
        plan_id: null,
        expires_at: null,
      });
    });

    it('shows one environment, and answers 404 for one that does not exist', async () => {
      const dev = await callApi(scheduler, '/v1/environments/dev', { token: viewer.token });
      expect(dev.status).toBe(200);
      expect(dev.json.environment.name).toBe('dev');

      const missing = await callApi(scheduler, '/v1/environments/nowhere', { token: viewer.token });
      expect(missing.status).toBe(404);
      expect(missing.json.error.message).toBe(
        "Environment 'nowhere' does not exist; create it with 'sluice plan nowhere'",
      );
    });

    it('lets a developer invalidate a development environment, and audits it', async () => {
      const answer = await invalidate('dev', developer);
      expect(answer.status).toBe(200);
      expect(Date.parse(answer.json.environment.expires_at)).toBeLessThanOrEqual(Date.now());

      const stored = await readEnvironment(scheduler.store, 'dev');
      expect(stored?.expiresAt).toBe(answer.json.environment.expires_at);
      const entries = await readAuditEntries(scheduler.store, { limit: 1000 });
      expect(entries).toContainEqual(
        expect.objectContaining({
          actor: 'developer-1',
          action: 'environment.invalidated',
          subject: 'dev',
        }),
      );
    });

    it('gives a developer 403 on prod, naming the permission and its granting roles', async () => {
      const answer = await invalidate('prod', developer);
      expect(answer.status).toBe(403);
      expect(answer.json.error.code).toBe('auth_forbidden');
      expect(answer.json.error.message).toContain("'environment:write' on environment 'prod'");
      expect(answer.json.error.message).toContain("'admin', 'deployer'");
      expect(answer.headers.get('www-authenticate')).toContain('insufficient_scope');
    });

    it('answers a deployer on prod with 409: prod never expires', async () => {
      const answer = await invalidate('prod', deployer);
      expect(answer.status).toBe(409);
      expect(answer.json.error.message).toBe(
        'prod cannot be invalidated; only development environments expire',
      );
      expect((await readEnvironment(scheduler.store, 'prod'))?.expiresAt).toBeUndefined();
    });

    it('refuses a viewer any invalidation', async () => {
      const answer = await invalidate('feature_x', viewer);
      expect(answer.status).toBe(403);
      expect((await readEnvironment(scheduler.store, 'feature_x'))?.expiresAt).not.toBe(undefined);
      const after = await callApi(scheduler, '/v1/environments/feature_x', { token: viewer.token });
      expect(Date.parse(after.json.environment.expires_at)).toBeGreaterThan(Date.now());
    });

    it('answers 404 for invalidating an environment that does not exist', async () => {
      const answer = await invalidate('ghost', deployer);
      expect(answer.status).toBe(404);
    });

    it('answers 400 naming the path parameter for an impossible environment name', async () => {
      const answer = await callApi(scheduler, '/v1/environments/Not-Valid', {
        token: viewer.token,
      });
      expect(answer.status).toBe(400);
      expect(answer.json.error.field).toBe('params.name');
    });

    it('refuses executor roles on the state routes', async () => {
      const executor = await createTestClient(scheduler, 'executor-1', ['executor:run']);
      const answer = await callApi(scheduler, '/v1/environments', { token: executor.token });
      expect(answer.status).toBe(403);
      expect(answer.json.error.message).toContain("'state:read'");
    });
  });
}
