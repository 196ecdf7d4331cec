import { describe, expect, it, vi } from 'vitest';
import { SILENT_LOGGER } from '../../../src/core/logger.js';
import { versionIdOf } from '../../../src/core/snapshot.js';
import { loadProject } from '../../../src/project/project-loader.js';
import { snapshotsOfProject } from '../../../src/project/project-snapshots.js';
import { QueuedTaskQueue } from '../../../src/scheduler/runs/queued-tasks.js';
import { RunCoordinator } from '../../../src/scheduler/runs/run-coordinator.js';
import { buildRunGraph } from '../../../src/scheduler/runs/run-graph.js';
import { TaskCompletions } from '../../../src/scheduler/runs/task-completions.js';
import { markTableCreated, saveSnapshots } from '../../../src/state/snapshot-store.js';
import { claimTasks } from '../../../src/state/tasks/claim-tasks.js';
import { completeTask } from '../../../src/state/tasks/complete-task.js';
import { readProcessedRanges } from '../../../src/state/version-intervals.js';
import { freshStores } from '../../helpers/fresh-store.js';
import { stateBackendsUnderTest, testKeyRing, testStateKey } from '../../helpers/state-backends.js';
import { writeProject } from '../../helpers/temp-project.js';

/**
 * An evaluate task queued for Executors records its interval when it succeeds, in the
 * completion's transaction, without its run's coordinator: here the coordinator never hears of
 * the completion, as when the Scheduler that coordinated the run is gone.
 */

const DAY_MS = 86_400_000;
const NOW_MS = Date.UTC(2024, 5, 1);
const ring = testKeyRing(testStateKey('k1'));
const MODEL = `MODEL (name shop.orders, kind INCREMENTAL_BY_TIME_RANGE (time_column day, batch_size 2),
  start '2024-01-01', end '2024-01-06');
SELECT day FROM raw.days
`;

for (const backend of stateBackendsUnderTest()) {
  describe.skipIf(backend.skipReason !== '')(`queued evaluate tasks on ${backend.name}`, () => {
    const openFresh = freshStores(backend, ring);

    it('records the interval of a succeeded task without its coordinator', async () => {
      const store = await openFresh();
      const root = await writeProject({ 'sluice.yaml': 'name: test\n', 'models/o.sql': MODEL });
      const project = await loadProject(root);
      const snapshots = await snapshotsOfProject(project, undefined);
      await saveSnapshots(store, [...snapshots.values()]);
      const snapshot = snapshots.get('shop.orders');
      if (snapshot === undefined) throw new Error('no snapshot');
      const versionId = versionIdOf(snapshot);
      await markTableCreated(store, versionId);

      const completions = await TaskCompletions.start(store, { logger: SILENT_LOGGER });
      const queue = new QueuedTaskQueue(
        {
          store,
          completions,
          environment: 'prod',
          gateway: 'local',
          maxAttempts: 1,
          now: () => NOW_MS,
        },
        () => undefined,
      );
      const graph = buildRunGraph(snapshots, project.dag.nodes, {
        projectName: 'test',
        gateway: 'local',
      });
      const abort = new AbortController();
      const coordinator = new RunCoordinator(store, queue, graph, {
        runId: 'run-1',
        pool: 'run',
        nowMs: NOW_MS,
        lease: { owner: 'test/1/run-1', ttlMs: 30_000, pollMs: 100 },
        logger: SILENT_LOGGER,
        signal: abort.signal,
      });
      void coordinator.run();

      const claim = () =>
        claimTasks(store, {
          owner: 'ex',
          executorId: 'ex-1',
          pools: ['run'],
          maxTasks: 1,
          nowMs: NOW_MS,
          leaseMs: 60_000,
        });
      const [first] = await vi.waitFor(async () => {
        const claimed = await claim();
        expect(claimed).toHaveLength(1);
        return claimed;
      });
      await completeTask(store, {
        taskId: String(first?.id),
        owner: 'ex',
        epoch: 1,
        nowMs: NOW_MS,
        idempotencyKey: 'k1',
        retry: { baseDelayMs: 1_000, maxDelayMs: 1_000 },
        verdict: { status: 'succeeded' },
        report: { outcome: { status: 'succeeded', rows_written: 2, duration_ms: 1 } },
      });

      const start = Date.UTC(2024, 0, 1);
      expect((await readProcessedRanges(store, [versionId])).get(versionId)).toEqual([
        [start, start + 2 * DAY_MS],
      ]);
      abort.abort();
      await completions.close();
    });
  });
}
