import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAuditEntries } from '../../../src/state/audit-log.js';
import {
  listPausedModels,
  readEnvironmentSettings,
} from '../../../src/state/environment-settings.js';
import { recordPromotion } from '../../../src/state/environment-store.js';
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
  describe.skipIf(backend.skipReason !== '')(
    `environment settings routes on ${backend.name}`,
    () => {
      let scheduler: TestScheduler;
      let viewer: TestClient;
      let developer: TestClient;
      let deployer: TestClient;

      const post = (path: string, client: TestClient, json: unknown = {}) =>
        callApi(scheduler, path, { token: client.token, json });

      beforeAll(async () => {
        scheduler = await startTestScheduler(backend);
        for (const [name, ttlMs] of [
          ['prod', undefined],
          ['dev', WEEK_MS],
        ] as const) {
          await recordPromotion(scheduler.store, {
            name,
            baseRevision: 0,
            snapshotIds: { 'shop.orders': `snapshot-${name}`, 'shop.daily': `daily-${name}` },
            planId: undefined,
            ttlMs,
            now: new Date(),
          });
        }
        viewer = await createTestClient(scheduler, 'viewer-1', ['viewer']);
        developer = await createTestClient(scheduler, 'developer-1', ['developer']);
        deployer = await createTestClient(scheduler, 'deployer-1', ['deployer']);
      });

      afterAll(async () => {
        await scheduler?.close();
      });

      it('refuses a developer pausing prod, and lets a deployer do it', async () => {
        const refused = await post('/v1/environments/prod/pause', developer);
        expect(refused.status).toBe(403);
        expect(await readEnvironmentSettings(scheduler.store, 'prod')).toMatchObject({
          isPaused: false,
        });

        const paused = await post('/v1/environments/prod/pause', deployer);
        expect(paused.status).toBe(200);
        expect(paused.json).toEqual({
          settings: { environment: 'prod', is_cadence: true, is_paused: true, paused_models: [] },
          changed: true,
        });

        const again = await post('/v1/environments/prod/pause', deployer);
        expect(again.json.changed).toBe(false);
        const resumed = await post('/v1/environments/prod/resume', deployer);
        expect(resumed.json.settings.is_paused).toBe(false);
        const entries = await readAuditEntries(scheduler.store, { limit: 100 });
        const prodEntries = entries.filter((entry) => entry.subject === 'prod');
        expect(prodEntries.map((entry) => [entry.actor, entry.action])).toEqual([
          ['deployer-1', 'environment.paused'],
          ['deployer-1', 'environment.resumed'],
        ]);
      });

      it('lets a developer pause and resume a model of a development environment', async () => {
        const paused = await post('/v1/environments/dev/models/shop.orders/pause', developer);
        expect(paused.status).toBe(200);
        expect(paused.json.settings.paused_models).toEqual(['shop.orders']);
        expect((await listPausedModels(scheduler.store, 'dev'))[0]).toMatchObject({
          modelName: 'shop.orders',
          pausedBy: 'developer-1',
        });

        const read = await callApi(scheduler, '/v1/environments/dev/settings', {
          token: viewer.token,
        });
        expect(read.json.settings).toEqual({
          environment: 'dev',
          is_cadence: false,
          is_paused: false,
          paused_models: ['shop.orders'],
        });

        const resumed = await post('/v1/environments/dev/models/shop.orders/resume', developer);
        expect(resumed.json).toMatchObject({ changed: true, settings: { paused_models: [] } });
        const prodModel = await post('/v1/environments/prod/models/shop.orders/pause', developer);
        expect(prodModel.status).toBe(403);
      });

      it('opts a development environment into the cadence, and keeps prod in it', async () => {
        const optedIn = await post('/v1/environments/dev/cadence', developer, { enabled: true });
        expect(optedIn.status).toBe(200);
        expect(optedIn.json.settings.is_cadence).toBe(true);

        const prodOff = await post('/v1/environments/prod/cadence', deployer, { enabled: false });
        expect(prodOff.status).toBe(409);
        expect(prodOff.json.error.message).toBe(
          "prod always runs on its models' crons; to stop its runs, pause it with 'sluice pause prod'",
        );
        const noBody = await post('/v1/environments/dev/cadence', developer, {});
        expect(noBody.status).toBe(400);
      });

      it('answers 404 naming what is missing, and 403 to a viewer', async () => {
        const environment = await post('/v1/environments/nowhere/pause', developer);
        expect(environment.status).toBe(404);
        expect(environment.json.error.message).toBe(
          "Environment 'nowhere' does not exist; create it with 'sluice plan nowhere'",
        );

        const model = await post('/v1/environments/dev/models/shop.nothing/pause', developer);
        expect(model.status).toBe(404);
        expect(model.json.error.message).toContain("Environment 'dev' has no model 'shop.nothing'");

        expect((await post('/v1/environments/dev/pause', viewer)).status).toBe(403);
      });
    },
  );
}
