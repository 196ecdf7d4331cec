import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { viewOf } from '../../../src/core/environments.js';
import { loadProject } from '../../../src/project/project-loader.js';
import { snapshotsOfProject } from '../../../src/project/project-snapshots.js';
import type { CleanupTask } from '../../../src/protocol/task.js';
import { janitorJob } from '../../../src/scheduler/maintenance/janitor-job.js';
import { readEnvironment, recordPromotion } from '../../../src/state/environment-store.js';
import { saveSnapshots } from '../../../src/state/snapshot-store.js';
import type { StateStore } from '../../../src/state/state-store.js';
import { freshStores } from '../../helpers/fresh-store.js';
import { stateBackendsUnderTest, testKeyRing, testStateKey } from '../../helpers/state-backends.js';
import { writeProject } from '../../helpers/temp-project.js';

/**
 * The janitor as the leader's job: it removes expired environments through cleanup tasks, with
 * view names fitted to the identifier limit of the models' dialect, since the Scheduler holds no
 * gateway settings.
 */

const ring = testKeyRing(testStateKey('k1'));
const SCHEMA = 'a_rather_long_schema_name_for_the_shop_team';
const ENVIRONMENT = 'feature_with_a_long_name';

/** An expired environment holding one model written in `dialect`. */
async function expiredEnvironment(store: StateStore, dialect: 'duckdb' | 'postgres') {
  const root = await writeProject({
    'sluice.yaml': `name: shop\nmodel_defaults:\n  dialect: ${dialect}\n  start: '2024-01-01'\n`,
    'models/orders.sql': `MODEL (name ${SCHEMA}.orders, kind FULL);\nSELECT 1 AS id\n`,
  });
  const snapshots = [...(await snapshotsOfProject(await loadProject(root), undefined)).values()];
  await saveSnapshots(store, snapshots);
  await recordPromotion(store, {
    name: ENVIRONMENT,
    baseRevision: 0,
    snapshotIds: Object.fromEntries(snapshots.map((snapshot) => [snapshot.name, snapshot.id])),
    planId: undefined,
    ttlMs: 1,
    now: new Date(Date.now() - 60_000),
  });
}

for (const backend of stateBackendsUnderTest()) {
  describe.skipIf(backend.skipReason !== '')(`the janitor job on ${backend.name}`, () => {
    const openStore = freshStores(backend, ring);

    for (const [dialect, limit] of [
      ['postgres', 63],
      ['duckdb', undefined],
    ] as const) {
      it(`fits the views it drops to the ${dialect} dialect's identifier limit`, async () => {
        const store = await openStore();
        await expiredEnvironment(store, dialect);
        const tasks: CleanupTask[] = [];
        const job = janitorJob({
          store,
          cron: '0 * * * *',
          tableTtlMs: 86_400_000,
          logger: pino({ level: 'silent' }),
          runCleanup: async (task) => {
            tasks.push(task);
            return { status: 'succeeded', rowsWritten: 0, durationMs: 1 };
          },
        });

        await job.run(Date.now());

        const view = viewOf(`${SCHEMA}.orders`, ENVIRONMENT, limit);
        expect(tasks.map((task) => task.drops)).toEqual([[{ table: view, isView: true }]]);
        expect(view.schema.length).toBe(limit === undefined ? 69 : 63);
        expect(await readEnvironment(store, ENVIRONMENT)).toBeUndefined();
      });
    }
  });
}
