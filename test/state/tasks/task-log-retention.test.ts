import { describe, expect, it } from 'vitest';
import { claimTasks } from '../../../src/state/tasks/claim-tasks.js';
import { enqueueTasks } from '../../../src/state/tasks/enqueue-tasks.js';
import { pruneTaskLogs } from '../../../src/state/tasks/task-log-retention.js';
import { appendTaskLogs, readTaskLogs } from '../../../src/state/tasks/task-logs.js';
import { freshStores } from '../../helpers/fresh-store.js';
import { stateBackendsUnderTest, testKeyRing, testStateKey } from '../../helpers/state-backends.js';
import { queuedTask } from './queue-fixture.js';

/** Pruning task logs by age: only batches received before the cutoff go, a bounded few at once. */

const ring = testKeyRing(testStateKey('k1'));
const T0 = 1_800_000_000_000;
const DAY_MS = 24 * 3_600_000;

for (const backend of stateBackendsUnderTest()) {
  describe.skipIf(backend.skipReason !== '')(`task log retention on ${backend.name}`, () => {
    const openFresh = freshStores(backend, ring);

    it('removes only the batches older than the cutoff, in several deletes, and counts them', async () => {
      const store = await openFresh();
      await enqueueTasks(store, [queuedTask('t1')], T0);
      const [claimed] = await claimTasks(store, {
        owner: 'ex-a',
        executorId: 'ex-a-1',
        pools: ['run'],
        maxTasks: 1,
        nowMs: T0,
        leaseMs: 60 * DAY_MS,
      });
      const epoch = claimed?.epoch ?? 0;
      // Seven batches, one a day; the first five are older than the cutoff.
      for (let day = 0; day < 7; day += 1) {
        await appendTaskLogs(store, {
          taskId: 't1',
          owner: 'ex-a',
          epoch,
          seq: day + 1,
          nowMs: T0 + day * DAY_MS,
          lines: [{ atMs: T0 + day * DAY_MS, level: 'info', message: `day ${day}` }],
        });
      }

      const removed = await pruneTaskLogs(store, T0 + 5 * DAY_MS, { batchRows: 2 });
      const again = await pruneTaskLogs(store, T0 + 5 * DAY_MS, { batchRows: 2 });

      expect(removed).toBe(5);
      expect(again).toBe(0);
      const kept = await readTaskLogs(store, 't1', 1);
      expect(kept.map((line) => line.message)).toEqual(['day 5', 'day 6']);
    });

    it('removes nothing from a store without old logs', async () => {
      const store = await openFresh();

      expect(await pruneTaskLogs(store, T0)).toBe(0);
    });
  });
}
