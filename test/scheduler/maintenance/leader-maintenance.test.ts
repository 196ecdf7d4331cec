import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadProject } from '../../../src/project/project-loader.js';
import { snapshotsOfProject } from '../../../src/project/project-snapshots.js';
import type { CleanupTask, TaskOutcome } from '../../../src/protocol/task.js';
import type { CadenceRunRequest } from '../../../src/scheduler/cadence/cadence-run.js';
import type { SchedulerServiceOptions } from '../../../src/scheduler/http/service-options.js';
import { MANIFEST_SUFFIX } from '../../../src/state/backup/backup-manifest.js';
import { readEnvironment, recordPromotion } from '../../../src/state/environment-store.js';
import { saveSnapshots } from '../../../src/state/snapshot-store.js';
import type { StateStore } from '../../../src/state/state-store.js';
import {
  callApi,
  createTestClient,
  startTestScheduler,
  type TestScheduler,
} from '../../helpers/scheduler-service.js';
import { stateBackendsUnderTest } from '../../helpers/state-backends.js';
import { writeProject } from '../../helpers/temp-project.js';

/**
 * Two Scheduler replicas on one state store, each given a backup folder, a janitor, an extra job
 * and a cadence starter, all on crons with seconds: the leader does all of it, the other none.
 */

/** How long the schedules may take to fire on a busy machine. */
const WAIT = { timeout: 20_000, interval: 100 };
const EVERY_SECOND = '* * * * * *';

/** One replica's duties, as the test sees them done. */
type Replica = {
  readonly backupDir: string;
  readonly cleanups: CleanupTask[];
  readonly cadenceRequests: CadenceRunRequest[];
  jobRuns: number;
};

async function newReplica(): Promise<Replica> {
  const backupDir = await mkdtemp(join(tmpdir(), 'sluice-leader-backups-'));
  return { backupDir, cleanups: [], cadenceRequests: [], jobRuns: 0 };
}

function optionsOf(replica: Replica): Partial<SchedulerServiceOptions> {
  const succeeded: TaskOutcome = { status: 'succeeded', rowsWritten: 0, durationMs: 1 };
  return {
    leaderRetryMs: 100,
    // prod is made after the leader's first pass; its next pass catches prod up.
    cadenceMaxSleepMs: 200,
    backupDir: replica.backupDir,
    backupCron: EVERY_SECOND,
    janitorCron: EVERY_SECOND,
    runCleanup: async (task) => {
      replica.cleanups.push(task);
      return succeeded;
    },
    cadenceStarter: async (request) => {
      replica.cadenceRequests.push(request);
    },
    maintenanceJobs: [
      {
        name: 'count',
        cron: EVERY_SECOND,
        run: async () => {
          replica.jobRuns += 1;
        },
      },
    ],
  };
}

async function backupsIn(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((name) => name.endsWith(MANIFEST_SUFFIX));
}

/** prod with one hourly model, and a development environment that expired a minute ago. */
async function prepareEnvironments(store: StateStore): Promise<void> {
  const root = await writeProject({
    'sluice.yaml': "name: shop\nmodel_defaults:\n  start: '2024-01-01'\n",
    'models/orders.sql': "MODEL (name shop.orders, kind FULL, cron '@hourly');\nSELECT 1 AS id\n",
  });
  const snapshots = [...(await snapshotsOfProject(await loadProject(root), undefined)).values()];
  await saveSnapshots(store, snapshots);
  const snapshotIds = Object.fromEntries(snapshots.map((snapshot) => [snapshot.name, snapshot.id]));
  const base = { baseRevision: 0, snapshotIds, planId: undefined };
  await recordPromotion(store, { ...base, name: 'prod', ttlMs: undefined, now: new Date() });
  const longAgo = new Date(Date.now() - 60_000);
  await recordPromotion(store, { ...base, name: 'dev', ttlMs: 1, now: longAgo });
  await rm(root, { recursive: true, force: true });
}

function leads(scheduler: TestScheduler): boolean {
  return scheduler.logs.some((line) => JSON.parse(line).msg === 'this Scheduler leads');
}

for (const backend of stateBackendsUnderTest()) {
  describe.skipIf(backend.skipReason !== '')(`the leader's maintenance on ${backend.name}`, () => {
    const replicas: Replica[] = [];
    const schedulers: TestScheduler[] = [];

    beforeAll(async () => {
      for (let index = 0; index < 2; index += 1) replicas.push(await newReplica());
      const [first, second] = replicas as [Replica, Replica];
      const owner = await startTestScheduler(backend, optionsOf(first));
      schedulers.push(owner);
      await prepareEnvironments(owner.store);
      schedulers.push(await startTestScheduler(backend, optionsOf(second), owner));
      await vi.waitFor(() => expect(schedulers.filter(leads)).toHaveLength(1), WAIT);
    }, 60_000);

    afterAll(async () => {
      for (const scheduler of schedulers.reverse()) await scheduler.close();
      for (const replica of replicas) await rm(replica.backupDir, { recursive: true, force: true });
    });

    /** The leading replica first, then the other. */
    function byRole(): [[TestScheduler, Replica], [TestScheduler, Replica]] {
      const pairs = schedulers.map((scheduler, index) => [scheduler, replicas[index]] as const);
      const leader = pairs.find(([scheduler]) => leads(scheduler));
      const follower = pairs.find(([scheduler]) => !leads(scheduler));
      if (leader?.[1] === undefined || follower?.[1] === undefined) {
        throw new Error('expected one leader and one follower');
      }
      return [
        [leader[0], leader[1]],
        [follower[0], follower[1]],
      ];
    }

    it('backs up, runs the janitor, the extra job and the catch-up on the leader only', async () => {
      const [[leader, done], [, idle]] = byRole();

      await vi.waitFor(async () => expect(await backupsIn(done.backupDir)).not.toEqual([]), WAIT);
      await vi.waitFor(() => expect(done.jobRuns).toBeGreaterThan(1), WAIT);
      await vi.waitFor(() => expect(done.cleanups).toHaveLength(1), WAIT);

      expect(done.cleanups[0]?.drops).toEqual([
        { table: { schema: 'shop__dev', name: 'orders' }, isView: true },
      ]);
      expect(await readEnvironment(leader.store, 'dev')).toBeUndefined();
      expect(done.cadenceRequests).toEqual([
        { environment: 'prod', modelNames: ['shop.orders'], nowMs: expect.any(Number) },
      ]);
      expect(idle.jobRuns).toBe(0);
      expect(idle.cleanups).toEqual([]);
      expect(idle.cadenceRequests).toEqual([]);
      expect(await backupsIn(idle.backupDir)).toEqual([]);
    });

    it('shows which replica leads in /metrics', async () => {
      const [[leader], [follower]] = byRole();
      for (const [scheduler, value] of [
        [leader, 1],
        [follower, 0],
      ] as const) {
        const viewer = await createTestClient(scheduler, `viewer-of-${value}`, ['viewer']);
        const answer = await callApi(scheduler, '/metrics', { token: viewer.token });
        expect(answer.text).toMatch(new RegExp(`^sluice_scheduler_is_leader ${value}$`, 'm'));
      }
    });
  });
}
