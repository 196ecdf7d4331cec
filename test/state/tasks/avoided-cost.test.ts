import { describe, expect, it } from 'vitest';
import { versionIdOf } from '../../../src/core/snapshot.js';
import { loadProject } from '../../../src/project/project-loader.js';
import { snapshotsOfProject } from '../../../src/project/project-snapshots.js';
import { recordPromotion } from '../../../src/state/environment-store.js';
import { saveSnapshots } from '../../../src/state/snapshot-store.js';
import type { StateStore } from '../../../src/state/state-store.js';
import { readEnvironmentCost } from '../../../src/state/tasks/task-costs.js';
import { freshStores } from '../../helpers/fresh-store.js';
import { stateBackendsUnderTest, testKeyRing, testStateKey } from '../../helpers/state-backends.js';
import { writeProject } from '../../helpers/temp-project.js';
import { HOUR_MS, runAttempt, T0 } from './cost-fixture.js';

/**
 * The cost an environment avoided by reusing versions: what runs of other environments paid to
 * build the versions its snapshots use. dev builds shop.a and shop.b, prod reuses both and
 * evaluates shop.b once itself, and feature reuses shop.a.
 */

const ring = testKeyRing(testStateKey('k1'));

for (const backend of stateBackendsUnderTest()) {
  describe.skipIf(backend.skipReason !== '')(`avoided cost on ${backend.name}`, () => {
    const openFresh = freshStores(backend, ring);

    it('counts as avoided what other environments paid for the versions an environment uses', async () => {
      const store = await openFresh();
      const root = await writeProject({
        'sluice.yaml': 'name: test\n',
        'models/a.sql': 'MODEL (name shop.a, kind FULL);\nSELECT 1 AS x\n',
        'models/b.sql': 'MODEL (name shop.b, kind FULL);\nSELECT 2 AS y\n',
      });
      const snapshots = await snapshotsOfProject(await loadProject(root), undefined);
      await saveSnapshots(store, [...snapshots.values()]);
      const a = snapshots.get('shop.a');
      const b = snapshots.get('shop.b');
      if (a === undefined || b === undefined) throw new Error('the project lost a model');
      const both = { 'shop.a': a.id, 'shop.b': b.id };
      for (const [name, snapshotIds] of [
        ['dev', both],
        ['prod', both],
        ['feature', { 'shop.a': a.id }],
      ] as const) {
        await promote(store, name, snapshotIds);
      }

      const built = { gateway: 'warehouse', nowMs: T0 };
      await runAttempt(store, {
        ...built,
        id: 'dev-a',
        runId: 'r-dev',
        environment: 'dev',
        modelName: 'shop.a',
        versionId: versionIdOf(a),
        usage: { durationMs: HOUR_MS },
      });
      await runAttempt(store, {
        ...built,
        id: 'dev-b',
        runId: 'r-dev',
        environment: 'dev',
        modelName: 'shop.b',
        versionId: versionIdOf(b),
        usage: { durationMs: HOUR_MS / 2 },
      });
      await runAttempt(store, {
        ...built,
        id: 'prod-b',
        runId: 'r-prod',
        environment: 'prod',
        modelName: 'shop.b',
        versionId: versionIdOf(b),
        usage: { durationMs: HOUR_MS },
      });

      const prod = await readEnvironmentCost(store, 'prod');
      const dev = await readEnvironmentCost(store, 'dev');
      const feature = await readEnvironmentCost(store, 'feature');

      expect(prod?.total.costs).toEqual([{ currency: 'USD', amount: expect.closeTo(3.2, 10) }]);
      expect(prod?.avoided).toEqual({
        costs: [{ currency: 'USD', amount: expect.closeTo(4.8, 10) }],
        versions: 2,
        attempts: 2,
      });
      expect(dev?.avoided).toEqual({
        costs: [{ currency: 'USD', amount: expect.closeTo(3.2, 10) }],
        versions: 1,
        attempts: 1,
      });
      expect(feature?.total).toMatchObject({ key: 'feature', attempts: 0, costs: [] });
      expect(feature?.avoided.costs).toEqual([
        { currency: 'USD', amount: expect.closeTo(3.2, 10) },
      ]);
      expect(await readEnvironmentCost(store, 'nowhere')).toBeUndefined();
    });
  });
}

async function promote(
  store: StateStore,
  name: string,
  snapshotIds: Readonly<Record<string, string>>,
): Promise<void> {
  await recordPromotion(store, {
    name,
    baseRevision: 0,
    snapshotIds,
    planId: undefined,
    ttlMs: undefined,
    now: new Date(T0),
  });
}
