import { describe, expect, it } from 'vitest';
import { claimTasks } from '../../../src/state/tasks/claim-tasks.js';
import { completeTask } from '../../../src/state/tasks/complete-task.js';
import { enqueueTasks } from '../../../src/state/tasks/enqueue-tasks.js';
import {
  cancelRunTasks,
  extendLeasesAfterRestart,
  reapExpiredLeases,
} from '../../../src/state/tasks/reap-tasks.js';
import { heartbeatTask, releaseTask } from '../../../src/state/tasks/task-leases.js';
import { appendTaskLogs, readTaskLogs } from '../../../src/state/tasks/task-logs.js';
import { readTaskRecord, readyTaskCounts } from '../../../src/state/tasks/task-queries.js';
import { errorOf } from '../../helpers/errors.js';
import { freshStores } from '../../helpers/fresh-store.js';
import { stateBackendsUnderTest, testKeyRing, testStateKey } from '../../helpers/state-backends.js';
import { failed, queuedTask, RETRY, SUCCEEDED } from './queue-fixture.js';

const ring = testKeyRing(testStateKey('k1'));
const T0 = 1_800_000_000_000;
const LEASE_MS = 30_000;

function claimBy(owner: string, nowMs = T0, maxTasks = 10) {
  return {
    owner,
    executorId: `${owner}-1`,
    pools: ['apply', 'run'] as const,
    maxTasks,
    nowMs,
    leaseMs: LEASE_MS,
  };
}

function completion(taskId: string, owner: string, epoch: number, key = `${taskId}-${epoch}`) {
  return { taskId, owner, epoch, nowMs: T0 + 1_000, idempotencyKey: key, retry: RETRY };
}

for (const backend of stateBackendsUnderTest()) {
  describe.skipIf(backend.skipReason !== '')(`the task queue on ${backend.name}`, () => {
    const openFresh = freshStores(backend, ring);

    it('leases a ready task with attempt and epoch 1 and hands back its definition', async () => {
      const store = await openFresh();
      await enqueueTasks(store, [queuedTask('t1')], T0);

      const [claimed, ...rest] = await claimTasks(store, claimBy('ex-a'));

      expect(rest).toEqual([]);
      expect(claimed?.definition).toMatchObject({ id: 't1', kind: 'promote', environment: 'prod' });
      expect(claimed).toMatchObject({ attempt: 1, epoch: 1, leaseExpiresAtMs: T0 + LEASE_MS });
      expect(await claimTasks(store, claimBy('ex-b'))).toEqual([]);
      expect(await readTaskRecord(store, 't1')).toMatchObject({ status: 'leased', owner: 'ex-a' });
    });

    it('serves prod before development tasks, whatever the order they were queued in', async () => {
      const store = await openFresh();
      await enqueueTasks(store, [queuedTask('dev', { priority: 1 })], T0);
      await enqueueTasks(store, [queuedTask('prod', { priority: 0 })], T0 + 1);

      const claimed = await claimTasks(store, claimBy('ex-a', T0 + 2, 1));

      expect(claimed.map((one) => one.id)).toEqual(['prod']);
    });

    it('claims only from the pools asked for, and at most the free slots', async () => {
      const store = await openFresh();
      const tasks = ['a1', 'a2', 'a3'].map((id) => queuedTask(id, { pool: 'apply' }));
      await enqueueTasks(store, [...tasks, queuedTask('r1', { pool: 'run' })], T0);

      const fromRun = await claimTasks(store, { ...claimBy('ex-a'), pools: ['run'] });
      const fromApply = await claimTasks(store, { ...claimBy('ex-b', T0, 2), pools: ['apply'] });

      expect(fromRun.map((one) => one.id)).toEqual(['r1']);
      expect(fromApply.map((one) => one.id)).toEqual(['a1', 'a2']);
      expect(await readyTaskCounts(store)).toEqual({ apply: 1, run: 0 });
    });

    it('makes a task ready only once every task it depends on succeeded', async () => {
      const store = await openFresh();
      await enqueueTasks(
        store,
        [queuedTask('up1'), queuedTask('up2'), queuedTask('down', { dependsOn: ['up1', 'up2'] })],
        T0,
      );
      const claimed = await claimTasks(store, claimBy('ex-a'));
      expect(claimed.map((one) => one.id)).toEqual(['up1', 'up2']);

      await completeTask(store, { ...completion('up1', 'ex-a', 1), ...SUCCEEDED });
      expect((await readTaskRecord(store, 'down')).status).toBe('blocked');
      await completeTask(store, { ...completion('up2', 'ex-a', 1), ...SUCCEEDED });

      expect((await readTaskRecord(store, 'down')).status).toBe('ready');
    });

    it('skips everything downstream of a final failure and nothing else', async () => {
      const store = await openFresh();
      await enqueueTasks(
        store,
        [
          queuedTask('a'),
          queuedTask('b', { dependsOn: ['a'] }),
          queuedTask('c', { dependsOn: ['b'] }),
          queuedTask('other'),
        ],
        T0,
      );
      await claimTasks(store, claimBy('ex-a', T0, 1));

      const answer = await completeTask(store, {
        ...completion('a', 'ex-a', 1),
        ...failed(false),
      });

      expect(answer).toEqual({ taskStatus: 'failed', retryAtMs: null, skippedTasks: 2 });
      expect((await readTaskRecord(store, 'b')).status).toBe('skipped');
      expect((await readTaskRecord(store, 'c')).status).toBe('skipped');
      expect((await readTaskRecord(store, 'other')).status).toBe('ready');
    });

    it('retries a retryable failure after a backoff, until its attempts are spent', async () => {
      const store = await openFresh();
      await enqueueTasks(store, [queuedTask('t', { maxAttempts: 2 })], T0);
      await claimTasks(store, claimBy('ex-a'));

      const first = await completeTask(store, {
        ...completion('t', 'ex-a', 1),
        ...failed(true),
        random: () => 0,
      });
      expect(first).toEqual({ taskStatus: 'retrying', retryAtMs: T0 + 1_500, skippedTasks: 0 });
      expect(await claimTasks(store, claimBy('ex-a', T0 + 1_499))).toEqual([]);

      const again = await claimTasks(store, claimBy('ex-b', T0 + 1_500));
      expect(again).toMatchObject([{ attempt: 2, epoch: 2 }]);
      const last = await completeTask(store, {
        ...completion('t', 'ex-b', 2),
        ...failed(true),
      });
      expect(last.taskStatus).toBe('failed');
    });

    it('answers a replayed completion with the first answer, and a stale epoch with 409', async () => {
      const store = await openFresh();
      await enqueueTasks(store, [queuedTask('t')], T0);
      await claimTasks(store, claimBy('ex-a'));

      const first = await completeTask(store, {
        ...completion('t', 'ex-a', 1),
        ...SUCCEEDED,
      });
      const replay = await completeTask(store, {
        ...completion('t', 'ex-a', 1),
        ...SUCCEEDED,
      });
      const otherKey = await errorOf(
        completeTask(store, { ...completion('t', 'ex-a', 1, 'other'), ...SUCCEEDED }),
      );

      expect(replay).toEqual(first);
      expect(otherKey.code).toBe('lease_lost');
      expect((await readTaskRecord(store, 't')).lastReport).toEqual(SUCCEEDED.report);
    });

    it('refuses a caller that never held the task with lease_not_held', async () => {
      const store = await openFresh();
      await enqueueTasks(store, [queuedTask('t')], T0);
      await claimTasks(store, claimBy('ex-a'));

      const call = { taskId: 't', owner: 'intruder', epoch: 1, nowMs: T0 };
      expect((await errorOf(heartbeatTask(store, call, LEASE_MS))).code).toBe('lease_not_held');
      expect((await errorOf(releaseTask(store, call))).code).toBe('lease_not_held');
      const unknown = { ...call, taskId: 'nope', owner: 'ex-a' };
      expect((await errorOf(heartbeatTask(store, unknown, LEASE_MS))).code).toBe('task_not_found');
    });

    it('returns a released task without counting the attempt; the old epoch is fenced', async () => {
      const store = await openFresh();
      await enqueueTasks(store, [queuedTask('t')], T0);
      await claimTasks(store, claimBy('ex-a'));

      await releaseTask(store, { taskId: 't', owner: 'ex-a', epoch: 1, nowMs: T0 });
      const again = await claimTasks(store, claimBy('ex-a'));
      const stale = await errorOf(
        heartbeatTask(store, { taskId: 't', owner: 'ex-a', epoch: 1, nowMs: T0 }, LEASE_MS),
      );

      expect(again).toMatchObject([{ attempt: 1, epoch: 2 }]);
      expect(stale.code).toBe('lease_lost');
    });

    it('renews a lease on heartbeat and reports cancellation of its run', async () => {
      const store = await openFresh();
      await enqueueTasks(store, [queuedTask('t'), queuedTask('u', { dependsOn: ['t'] })], T0);
      await claimTasks(store, claimBy('ex-a'));
      const call = { taskId: 't', owner: 'ex-a', epoch: 1, nowMs: T0 + 10_000 };

      const renewed = await heartbeatTask(store, call, LEASE_MS);
      expect(renewed).toEqual({ leaseExpiresAtMs: T0 + 40_000, isCancelRequested: false });
      expect(await cancelRunTasks(store, 'run-1', T0 + 11_000)).toEqual({
        cancelled: 1,
        flagged: 1,
      });
      const flagged = await heartbeatTask(store, call, LEASE_MS);
      const answer = await completeTask(store, {
        ...completion('t', 'ex-a', 1),
        ...failed(true),
      });

      expect(flagged.isCancelRequested).toBe(true);
      expect(answer.taskStatus).toBe('cancelled');
      expect((await readTaskRecord(store, 'u')).status).toBe('cancelled');
    });

    it('reaps an expired lease back to the queue and fails it once attempts are spent', async () => {
      const store = await openFresh();
      await enqueueTasks(
        store,
        [queuedTask('t', { maxAttempts: 2 }), queuedTask('d', { dependsOn: ['t'] })],
        T0,
      );
      await claimTasks(store, claimBy('ex-a'));

      expect(await reapExpiredLeases(store, T0 + LEASE_MS, RETRY)).toEqual({
        requeued: 0,
        failed: 0,
      });
      expect(await reapExpiredLeases(store, T0 + LEASE_MS + 1, RETRY, () => 0)).toEqual({
        requeued: 1,
        failed: 0,
      });
      const retriedAt = T0 + LEASE_MS + 1 + 500;
      expect(await claimTasks(store, claimBy('ex-b', retriedAt))).toMatchObject([{ epoch: 2 }]);
      const late = await errorOf(
        completeTask(store, { ...completion('t', 'ex-a', 1), ...SUCCEEDED }),
      );
      expect(late.code).toBe('lease_lost');

      const end = retriedAt + LEASE_MS + 1;
      expect(await reapExpiredLeases(store, end, RETRY)).toEqual({ requeued: 0, failed: 1 });
      expect((await readTaskRecord(store, 'd')).status).toBe('skipped');
    });

    it('extends live leases to a full lease length after a restart', async () => {
      const store = await openFresh();
      await enqueueTasks(store, [queuedTask('t')], T0);
      await claimTasks(store, claimBy('ex-a'));

      const restartMs = T0 + LEASE_MS - 1;
      expect(await extendLeasesAfterRestart(store, restartMs, LEASE_MS)).toBe(1);
      const reaped = await reapExpiredLeases(store, restartMs + LEASE_MS - 1, RETRY);

      expect(reaped).toEqual({ requeued: 0, failed: 0 });
      expect((await readTaskRecord(store, 't')).leaseExpiresAtMs).toBe(restartMs + LEASE_MS);
    });

    it('caps the tasks leased at once per gateway and per model', async () => {
      const store = await openFresh();
      const onWarehouse = ['w1', 'w2', 'w3'].map((id) => queuedTask(id, { gateway: 'warehouse' }));
      const ofModel = ['m1', 'm2'].map((id) => queuedTask(id, { modelName: 'shop.orders' }));
      await enqueueTasks(store, [...onWarehouse, ...ofModel, queuedTask('free')], T0);
      const caps = { perGateway: { warehouse: 2 }, perModel: 1 };

      const first = await claimTasks(store, { ...claimBy('ex-a'), caps });
      const second = await claimTasks(store, { ...claimBy('ex-b'), caps });

      expect(first.map((one) => one.id).sort()).toEqual(['free', 'm1', 'w1', 'w2']);
      expect(second).toEqual([]);
      await completeTask(store, { ...completion('w1', 'ex-a', 1), ...SUCCEEDED });
      const third = await claimTasks(store, { ...claimBy('ex-b'), caps });
      expect(third.map((one) => one.id)).toEqual(['w3']);
    });

    it('stores a log batch once however often it is sent, encrypted', async () => {
      const store = await openFresh();
      await enqueueTasks(store, [queuedTask('t')], T0);
      await claimTasks(store, claimBy('ex-a'));
      const batch = {
        taskId: 't',
        owner: 'ex-a',
        epoch: 1,
        nowMs: T0,
        seq: 1,
        lines: [{ atMs: T0, level: 'info' as const, message: 'evaluating shop.orders' }],
      };

      expect(await appendTaskLogs(store, batch)).toEqual({ isDuplicate: false });
      expect(await appendTaskLogs(store, batch)).toEqual({ isDuplicate: true });
      const intruder = await errorOf(appendTaskLogs(store, { ...batch, owner: 'intruder' }));

      expect(intruder.code).toBe('lease_not_held');
      expect(await readTaskLogs(store, 't', 1)).toEqual(batch.lines);
    });

    it('keeps the log batches of a claim that followed a release apart from the first', async () => {
      const store = await openFresh();
      await enqueueTasks(store, [queuedTask('t')], T0);
      await claimTasks(store, claimBy('ex-a'));
      const line = (message: string) => [{ atMs: T0, level: 'info' as const, message }];
      const first = { taskId: 't', owner: 'ex-a', epoch: 1, nowMs: T0, seq: 1, lines: line('a') };
      await appendTaskLogs(store, first);
      await releaseTask(store, { taskId: 't', owner: 'ex-a', epoch: 1, nowMs: T0 });
      await claimTasks(store, claimBy('ex-b'));

      const second = { ...first, owner: 'ex-b', epoch: 2, lines: line('b') };

      expect(await appendTaskLogs(store, second)).toEqual({ isDuplicate: false });
      expect((await readTaskLogs(store, 't', 1)).map((one) => one.message)).toEqual(['a', 'b']);
    });

    it('skips what depends on the tasks a cancellation ended, in other runs too', async () => {
      const store = await openFresh();
      await enqueueTasks(
        store,
        [queuedTask('a'), queuedTask('b', { runId: 'run-2', dependsOn: ['a'] })],
        T0,
      );

      expect(await cancelRunTasks(store, 'run-1', T0)).toEqual({ cancelled: 1, flagged: 0 });

      expect((await readTaskRecord(store, 'b')).status).toBe('skipped');
    });

    it('refuses a dependency on a task that is not queued, and keeps nothing of the call', async () => {
      const store = await openFresh();

      const refused = await errorOf(
        enqueueTasks(store, [queuedTask('a'), queuedTask('b', { dependsOn: ['ghost'] })], T0),
      );

      expect(refused.message).toContain("'ghost'");
      expect(await readyTaskCounts(store)).toEqual({ apply: 0, run: 0 });
    });
  });
}
