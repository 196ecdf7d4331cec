import { describe, expect, it } from 'vitest';
import { readAuditEntries } from '../../src/state/audit-log.js';
import {
  listEnvironmentSettings,
  listPausedModels,
  pauseModel,
  readEnvironmentSettings,
  resumeModel,
  setEnvironmentCadence,
  setEnvironmentPaused,
} from '../../src/state/environment-settings.js';
import { freshStores } from '../helpers/fresh-store.js';
import { stateBackendsUnderTest, testKeyRing, testStateKey } from '../helpers/state-backends.js';

const ring = testKeyRing(testStateKey('k1'));
const BY = { actor: 'developer-1', nowMs: Date.UTC(2024, 0, 1) };

for (const backend of stateBackendsUnderTest()) {
  describe.skipIf(backend.skipReason !== '')(`environment settings on ${backend.name}`, () => {
    const openStore = freshStores(backend, ring);

    it('puts prod in the cadence and nothing else until asked', async () => {
      const store = await openStore();

      expect(await readEnvironmentSettings(store, 'prod')).toEqual({
        environment: 'prod',
        isCadence: true,
        isPaused: false,
      });
      expect(await readEnvironmentSettings(store, 'dev')).toMatchObject({ isCadence: false });
      expect(await listEnvironmentSettings(store)).toEqual(new Map());
    });

    it('opts a development environment in and out, auditing each change once', async () => {
      const store = await openStore();

      expect(await setEnvironmentCadence(store, 'dev', true, BY)).toBe(true);
      expect(await setEnvironmentCadence(store, 'dev', true, BY)).toBe(false);
      expect(await readEnvironmentSettings(store, 'dev')).toMatchObject({ isCadence: true });
      expect(await setEnvironmentCadence(store, 'dev', false, BY)).toBe(true);

      const entries = await readAuditEntries(store, { limit: 10 });
      expect(entries.map((entry) => [entry.actor, entry.action, entry.subject])).toEqual([
        ['developer-1', 'environment.cadence_enabled', 'dev'],
        ['developer-1', 'environment.cadence_disabled', 'dev'],
      ]);
    });

    it('keeps prod in the cadence when asked to take it out', async () => {
      const store = await openStore();

      expect(await setEnvironmentCadence(store, 'prod', false, BY)).toBe(false);

      expect(await readEnvironmentSettings(store, 'prod')).toMatchObject({ isCadence: true });
      expect(await readAuditEntries(store, { limit: 10 })).toEqual([]);
    });

    it('pauses and resumes an environment without touching its cadence setting', async () => {
      const store = await openStore();
      await setEnvironmentCadence(store, 'dev', true, BY);

      expect(await setEnvironmentPaused(store, 'dev', true, BY)).toBe(true);
      expect(await setEnvironmentPaused(store, 'dev', true, BY)).toBe(false);
      expect(await readEnvironmentSettings(store, 'dev')).toEqual({
        environment: 'dev',
        isCadence: true,
        isPaused: true,
      });
      expect(await setEnvironmentPaused(store, 'dev', false, BY)).toBe(true);

      expect((await listEnvironmentSettings(store)).get('dev')).toMatchObject({ isPaused: false });
      const actions = (await readAuditEntries(store, { limit: 10 })).map((entry) => entry.action);
      expect(actions).toEqual([
        'environment.cadence_enabled',
        'environment.paused',
        'environment.resumed',
      ]);
    });

    it('pauses models per environment and lists them, resuming only what was paused', async () => {
      const store = await openStore();

      expect(await pauseModel(store, 'prod', 'shop.orders', BY)).toBe(true);
      expect(await pauseModel(store, 'prod', 'shop.orders', BY)).toBe(false);
      expect(await pauseModel(store, 'dev', 'shop.customers', BY)).toBe(true);

      expect(await listPausedModels(store, 'prod')).toEqual([
        {
          environment: 'prod',
          modelName: 'shop.orders',
          pausedAtMs: BY.nowMs,
          pausedBy: 'developer-1',
        },
      ]);
      expect((await listPausedModels(store)).map((model) => model.environment)).toEqual([
        'dev',
        'prod',
      ]);

      expect(await resumeModel(store, 'prod', 'shop.orders', BY)).toBe(true);
      expect(await resumeModel(store, 'prod', 'shop.orders', BY)).toBe(false);
      expect(await listPausedModels(store, 'prod')).toEqual([]);
      const entries = await readAuditEntries(store, { limit: 10 });
      expect(entries.map((entry) => [entry.action, entry.subject])).toEqual([
        ['model.paused', 'prod/shop.orders'],
        ['model.paused', 'dev/shop.customers'],
        ['model.resumed', 'prod/shop.orders'],
      ]);
    });
  });
}
