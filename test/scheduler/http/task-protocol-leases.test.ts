import { afterEach, describe, expect, it } from 'vitest';
import { enqueueTasks } from '../../../src/state/tasks/enqueue-tasks.js';
import { cancelRunTasks } from '../../../src/state/tasks/reap-tasks.js';
import { readTaskLogs } from '../../../src/state/tasks/task-logs.js';
import { readTaskRecord } from '../../../src/state/tasks/task-queries.js';
import { type ProtocolClient, startTestExecutor } from '../../helpers/protocol-client.js';
import { startTestScheduler, type TestScheduler } from '../../helpers/scheduler-service.js';
import { stateBackendsUnderTest } from '../../helpers/state-backends.js';
import { queuedTask } from '../../state/tasks/queue-fixture.js';

/**
 * The calls on a claimed task over real HTTP: heartbeats, logs, completion and release, fenced
 * by the lease's epoch and owner. The Scheduler runs on a clock the tests move by hand.
 */

const T0 = 1_800_000_000_000;
const LEASE_MS = 60_000;

const SUCCEEDED = { status: 'succeeded', rows_written: 12, duration_ms: 40 } as const;

for (const backend of stateBackendsUnderTest()) {
  describe.skipIf(backend.skipReason !== '')(`calls on a claimed task on ${backend.name}`, () => {
    let scheduler: TestScheduler | undefined;
    let nowMs = T0;

    async function start(): Promise<TestScheduler> {
      nowMs = T0;
      scheduler = await startTestScheduler(backend, { now: () => nowMs });
      return scheduler;
    }

    afterEach(async () => {
      await scheduler?.close();
      scheduler = undefined;
    });

    /** Queues `taskId` and has a new run Executor `clientId` claim it; returns the epoch. */
    async function claimed(
      scheduler: TestScheduler,
      clientId: string,
      taskId: string,
    ): Promise<{ protocol: ProtocolClient; epoch: number }> {
      const runner = await startTestExecutor(scheduler, clientId, ['executor:run'], ['run']);
      await enqueueTasks(scheduler.store, [queuedTask(taskId)], nowMs);
      const claim = await runner.protocol.claim({
        executor_id: runner.executorId,
        max_tasks: 1,
        wait_sec: 0,
      });
      expect(claim.body.tasks[0].id).toBe(taskId);
      return { protocol: runner.protocol, epoch: claim.body.tasks[0].epoch };
    }

    it('extends the lease on a heartbeat and tells of a cancelled run', async () => {
      const scheduler = await start();
      const { protocol, epoch } = await claimed(scheduler, 'runner', 't1');
      expect((await readTaskRecord(scheduler.store, 't1')).leaseExpiresAtMs).toBe(T0 + LEASE_MS);

      nowMs += 10_000;
      const beat = await protocol.heartbeat('t1', { epoch });
      expect(beat).toEqual({
        status: 200,
        body: { lease_expires_at_ms: T0 + 10_000 + LEASE_MS, cancel_requested: false },
      });

      await cancelRunTasks(scheduler.store, 'run-1', nowMs);
      const cancelled = await protocol.heartbeat('t1', { epoch });
      expect(cancelled.body.cancel_requested).toBe(true);
    });

    it('stores a log batch once, however often it is sent', async () => {
      const scheduler = await start();
      const { protocol, epoch } = await claimed(scheduler, 'runner', 't1');
      const batch = {
        epoch,
        seq: 1,
        lines: [
          { at_ms: T0 + 1, level: 'info', message: 'creating views' },
          { at_ms: T0 + 2, level: 'warn', message: 'view existed' },
        ],
      };

      const first = await protocol.logs('t1', batch);
      const again = await protocol.logs('t1', batch);

      expect(first).toEqual({ status: 200, body: { duplicate: false } });
      expect(again).toEqual({ status: 200, body: { duplicate: true } });
      expect(await readTaskLogs(scheduler.store, 't1', 1)).toEqual([
        { atMs: T0 + 1, level: 'info', message: 'creating views' },
        { atMs: T0 + 2, level: 'warn', message: 'view existed' },
      ]);
    });

    it('completes once per key: a replay gets the same answer, another key 409', async () => {
      const scheduler = await start();
      const { protocol, epoch } = await claimed(scheduler, 'runner', 't1');
      const cost = { bytes_scanned: 2048, engine_query_ids: ['q-1'] };
      const body = { epoch, outcome: SUCCEEDED, cost };

      const first = await protocol.complete('t1', body, 'done-1');
      nowMs += 5_000;
      const replay = await protocol.complete('t1', body, 'done-1');
      const otherKey = await protocol.complete('t1', body, 'done-2');

      expect(first).toEqual({
        status: 200,
        body: { task_status: 'succeeded', retry_at_ms: null, skipped_tasks: 0 },
      });
      expect(replay).toEqual(first);
      expect(otherKey.status).toBe(409);
      expect(otherKey.body.error.code).toBe('lease_lost');
      expect(await readTaskRecord(scheduler.store, 't1')).toMatchObject({
        status: 'succeeded',
        lastReport: { outcome: SUCCEEDED, cost },
      });
    });

    it('retries a retryable failure after a backoff and fails the rest for good', async () => {
      const scheduler = await start();
      const { protocol, epoch } = await claimed(scheduler, 'runner', 't1');
      await enqueueTasks(scheduler.store, [queuedTask('t2', { dependsOn: ['t1'] })], nowMs);
      const failure = (retryable: boolean) => ({
        epoch,
        outcome: {
          status: 'failed',
          duration_ms: 7,
          error: { code: 'engine_error', message: 'the engine refused', retryable },
        },
      });

      const retried = await protocol.complete('t1', failure(true), 'fail-1');
      expect(retried.body).toMatchObject({ task_status: 'retrying', skipped_tasks: 0 });
      expect(retried.body.retry_at_ms).toBeGreaterThan(nowMs);

      nowMs = retried.body.retry_at_ms;
      const claim = await protocol.claim({ executor_id: 'runner-1', max_tasks: 1, wait_sec: 0 });
      const final = await protocol.complete(
        't1',
        { ...failure(false), epoch: claim.body.tasks[0].epoch },
        'fail-2',
      );
      expect(final.body).toEqual({ task_status: 'failed', retry_at_ms: null, skipped_tasks: 1 });
      expect((await readTaskRecord(scheduler.store, 't2')).status).toBe('skipped');
    });

    it('returns a released task to the queue without counting an attempt', async () => {
      const scheduler = await start();
      const { protocol, epoch } = await claimed(scheduler, 'runner', 't1');

      const released = await protocol.release('t1', { epoch });
      const again = await protocol.claim({ executor_id: 'runner-1', max_tasks: 1, wait_sec: 0 });

      expect(released).toEqual({ status: 200, body: { released: true } });
      expect(again.body.tasks[0]).toMatchObject({ id: 't1', attempt: 1, epoch: epoch + 1 });
    });

    it('answers 409 to an earlier epoch and 403 to a client that never held the task', async () => {
      const scheduler = await start();
      const first = await claimed(scheduler, 'first', 't1');
      await first.protocol.release('t1', { epoch: first.epoch });
      const second = await startTestExecutor(scheduler, 'second', ['executor:run'], ['run']);
      const reclaim = await second.protocol.claim({
        executor_id: second.executorId,
        max_tasks: 1,
        wait_sec: 0,
      });
      expect(reclaim.body.tasks[0].epoch).toBe(first.epoch + 1);
      const stranger = await startTestExecutor(scheduler, 'stranger', ['executor:run'], ['run']);

      const stale = { epoch: first.epoch };
      const logs = { ...stale, seq: 1, lines: [{ at_ms: T0, level: 'info', message: 'late' }] };
      const staleAnswers = [
        await first.protocol.heartbeat('t1', stale),
        await first.protocol.logs('t1', logs),
        await first.protocol.complete('t1', { ...stale, outcome: SUCCEEDED }, 'late-1'),
        await first.protocol.release('t1', stale),
      ];
      expect(staleAnswers.map((answer) => answer.status)).toEqual([409, 409, 409, 409]);

      const current = { epoch: first.epoch + 1 };
      const strangerBeat = await stranger.protocol.heartbeat('t1', current);
      expect(strangerBeat.status).toBe(403);
      expect(strangerBeat.body.error.code).toBe('lease_not_held');
      const missing = await stranger.protocol.heartbeat('no-such-task', current);
      expect(missing.status).toBe(404);
      expect((await readTaskRecord(scheduler.store, 't1')).owner).toBe('second');
    });

    it('refuses unknown fields and a completion without an Idempotency-Key, naming the field', async () => {
      const scheduler = await start();
      const { protocol, epoch } = await claimed(scheduler, 'runner', 't1');

      const extraHello = await protocol.hello({
        executor_id: 'runner-1',
        agent: 'sluice-test/1',
        protocol_versions: [1],
        pools: ['run'],
        slots: 4,
        labels: { zone: 'a' },
      });
      const extraBeat = await protocol.heartbeat('t1', { epoch, lease_sec: 600 });
      const extraOutcome = await protocol.complete(
        't1',
        { epoch, outcome: { ...SUCCEEDED, rows_read: 3 } },
        'done-1',
      );
      const noKey = await protocol.complete('t1', { epoch, outcome: SUCCEEDED }, undefined);

      expect(extraHello.body.error.field).toBe('body.labels');
      expect(extraBeat.body.error.field).toBe('body.lease_sec');
      expect(extraOutcome.body.error.field).toBe('body.outcome.rows_read');
      expect(noKey.status).toBe(400);
      expect(noKey.body.error).toEqual({
        code: 'request_invalid',
        message: "The request field 'headers.idempotency-key' is missing; give a string",
        field: 'headers.idempotency-key',
      });
      for (const answer of [extraHello, extraBeat, extraOutcome]) expect(answer.status).toBe(400);
      expect((await readTaskRecord(scheduler.store, 't1')).status).toBe('leased');
    });
  });
}
