import { describe, expect, it } from 'vitest';
import type { StateStore } from '../../../src/state/state-store.js';
import { claimTasks } from '../../../src/state/tasks/claim-tasks.js';
import { completeTask } from '../../../src/state/tasks/complete-task.js';
import { enqueueTasks } from '../../../src/state/tasks/enqueue-tasks.js';
import { readTaskRecord } from '../../../src/state/tasks/task-queries.js';
import { freshStores } from '../../helpers/fresh-store.js';
import { stateBackendsUnderTest, testKeyRing, testStateKey } from '../../helpers/state-backends.js';
import { queuedTask, RETRY, SUCCEEDED } from './queue-fixture.js';

/**
 * A task that waits for two upstream tasks whose completions arrive at the same moment, in two
 * transactions at once: it must become ready every time. On PostgreSQL each transaction would
 * otherwise see the other's upstream task as not yet succeeded and leave it blocked for good.
 * Completions whose waiting tasks share upstream tasks lock those in one order, so that they
 * never wait for each other in a cycle.
 */

const T0 = Date.UTC(2026, 0, 1);
const ROUNDS = 25;
const ring = testKeyRing(testStateKey('k1'));

for (const backend of stateBackendsUnderTest()) {
  describe.skipIf(backend.skipReason !== '')(`concurrent completions on ${backend.name}`, () => {
    const openFresh = freshStores(backend, ring);

    it('releases a task whose two upstream tasks complete at the same moment', async () => {
      const store = await openFresh();
      for (let round = 0; round < ROUNDS; round++) {
        const [a, b, c] = ['a', 'b', 'c'].map((name) => `${name}-${round}`) as [
          string,
          string,
          string,
        ];
        await enqueueTasks(
          store,
          [queuedTask(a), queuedTask(b), queuedTask(c, { dependsOn: [a, b] })],
          T0,
        );
        const claim = (owner: string, nowMs = T0) =>
          claimTasks(store, {
            owner,
            executorId: `${owner}-1`,
            pools: ['run'],
            maxTasks: 1,
            nowMs,
            leaseMs: 60_000,
          });
        const [first] = await claim('ex-a');
        const [second] = await claim('ex-b');
        const complete = (taskId: string, owner: string) =>
          completeTask(store, {
            taskId,
            owner,
            epoch: 1,
            nowMs: T0 + 1,
            idempotencyKey: `${taskId}-done`,
            retry: RETRY,
            ...SUCCEEDED,
          });

        await Promise.all([
          complete(String(first?.id), 'ex-a'),
          complete(String(second?.id), 'ex-b'),
        ]);

        expect((await readTaskRecord(store, c)).status).toBe('ready');
        const [downstream] = await claim('ex-c', T0 + 2);
        expect(downstream?.id).toBe(c);
        await complete(c, 'ex-c');
      }
    });

    it('releases tasks that share upstream tasks when all of those complete at once', async () => {
      const store = await openFresh();
      for (let round = 0; round < ROUNDS; round++) {
        const id = (name: string) => `${name}-${round}`;
        await enqueueTasks(
          store,
          [
            ...['a', 'b', 'c'].map((name) => queuedTask(id(name))),
            queuedTask(id('d'), { dependsOn: [id('a'), id('b')] }),
            queuedTask(id('e'), { dependsOn: [id('b'), id('c')] }),
          ],
          T0,
        );
        const owners = ['ex-a', 'ex-b', 'ex-c'];
        const claimed = await Promise.all(owners.map((owner) => claimOne(store, owner)));

        await Promise.all(
          claimed.map((taskId, index) => completeAt(store, taskId, owners[index] ?? '')),
        );

        expect((await readTaskRecord(store, id('d'))).status).toBe('ready');
        expect((await readTaskRecord(store, id('e'))).status).toBe('ready');
        await completeAt(store, await claimOne(store, 'ex-d', T0 + 2), 'ex-d');
        await completeAt(store, await claimOne(store, 'ex-d', T0 + 2), 'ex-d');
      }
    });
  });
}

/** Claims one task for `owner` and returns its id. */
async function claimOne(store: StateStore, owner: string, nowMs = T0): Promise<string> {
  const [task] = await claimTasks(store, {
    owner,
    executorId: `${owner}-1`,
    pools: ['run'],
    maxTasks: 1,
    nowMs,
    leaseMs: 60_000,
  });
  if (task === undefined) throw new Error(`No task was ready for ${owner}`);
  return task.id;
}

/** Completes `taskId`, claimed once, as succeeded. */
async function completeAt(store: StateStore, taskId: string, owner: string): Promise<void> {
  await completeTask(store, {
    taskId,
    owner,
    epoch: 1,
    nowMs: T0 + 1,
    idempotencyKey: `${taskId}-done`,
    retry: RETRY,
    ...SUCCEEDED,
  });
}
