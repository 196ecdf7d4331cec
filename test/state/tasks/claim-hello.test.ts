import { describe, expect, it } from 'vitest';
import type { TaskPool } from '../../../src/core/task-pool.js';
import type { StateStore } from '../../../src/state/state-store.js';
import type { HelloSeen } from '../../../src/state/tasks/claim-hello.js';
import { claimTasks } from '../../../src/state/tasks/claim-tasks.js';
import { enqueueTasks } from '../../../src/state/tasks/enqueue-tasks.js';
import { recordExecutorHello } from '../../../src/state/tasks/executor-store.js';
import { readTaskRecord } from '../../../src/state/tasks/task-queries.js';
import { errorOf } from '../../helpers/errors.js';
import { freshStores } from '../../helpers/fresh-store.js';
import { stateBackendsUnderTest, testKeyRing, testStateKey } from '../../helpers/state-backends.js';
import { queuedTask } from './queue-fixture.js';

/**
 * A claim checked against an Executor's hello read earlier leases tasks only while that hello is
 * still the current one: same client, pools and slots. Both the single-statement claim and the
 * claim with concurrency caps (a transaction) check it.
 */

const ring = testKeyRing(testStateKey('k1'));
const T0 = 1_800_000_000_000;
const HELLO: HelloSeen = { pools: ['run'], slots: 2 };

async function sayHello(store: StateStore, clientId: string, pools: TaskPool[], slots: number) {
  await recordExecutorHello(store, {
    id: 'runner-1',
    clientId,
    pools,
    slots,
    protocolVersion: 1,
    agent: 'sluice-test/1',
    startedAtMs: T0,
    lastSeenAtMs: T0,
  });
}

function claimWith(hello: HelloSeen, caps = {}) {
  return {
    owner: 'runner',
    executorId: 'runner-1',
    pools: ['run'] as const,
    maxTasks: 2,
    nowMs: T0,
    leaseMs: 60_000,
    caps,
    hello,
  };
}

const WAYS = [
  { way: 'without caps', caps: {} },
  { way: 'with caps', caps: { perModel: 5 } },
];

for (const backend of stateBackendsUnderTest()) {
  describe.skipIf(backend.skipReason !== '')(
    `claims checked against a hello on ${backend.name}`,
    () => {
      const openFresh = freshStores(backend, ring);

      for (const { way, caps } of WAYS) {
        it(`leases tasks while the hello is the current one, ${way}`, async () => {
          const store = await openFresh();
          await sayHello(store, 'runner', ['run'], 2);
          await enqueueTasks(store, [queuedTask('t1'), queuedTask('t2'), queuedTask('t3')], T0);

          const claimed = await claimTasks(store, claimWith(HELLO, caps));

          expect(claimed.map((task) => task.id).sort()).toEqual(['t1', 't2']);
        });

        it(`leases nothing once the Executor said hello with other slots, ${way}`, async () => {
          const store = await openFresh();
          await sayHello(store, 'runner', ['run'], 4);
          await enqueueTasks(store, [queuedTask('t1')], T0);

          const error = await errorOf(claimTasks(store, claimWith(HELLO, caps)));

          expect(error.code).toBe('executor_unknown');
          expect(error.message).toContain("Executor 'runner-1'");
          expect((await readTaskRecord(store, 't1')).status).toBe('ready');
        });

        it(`leases nothing when the hello came from another client, ${way}`, async () => {
          const store = await openFresh();
          await sayHello(store, 'intruder', ['run'], 2);
          await enqueueTasks(store, [queuedTask('t1')], T0);

          const error = await errorOf(claimTasks(store, claimWith(HELLO, caps)));

          expect(error.code).toBe('executor_unknown');
          expect((await readTaskRecord(store, 't1')).status).toBe('ready');
        });
      }

      it('tells a changed hello even when no task is ready', async () => {
        const store = await openFresh();
        await sayHello(store, 'runner', ['apply', 'run'], 2);

        expect((await errorOf(claimTasks(store, claimWith(HELLO)))).code).toBe('executor_unknown');
        expect(await claimTasks(store, claimWith({ pools: ['apply', 'run'], slots: 2 }))).toEqual(
          [],
        );
      });
    },
  );
}
