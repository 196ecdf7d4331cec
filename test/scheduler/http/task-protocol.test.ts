import { afterEach, describe, expect, it } from 'vitest';
import { enqueueTasks } from '../../../src/state/tasks/enqueue-tasks.js';
import { readExecutor } from '../../../src/state/tasks/executor-store.js';
import { readTaskRecord } from '../../../src/state/tasks/task-queries.js';
import {
  countLines,
  helloBody,
  logLineAfter,
  protocolClient,
  startTestExecutor,
} from '../../helpers/protocol-client.js';
import {
  callApi,
  createTestClient,
  startTestScheduler,
  type TestScheduler,
} from '../../helpers/scheduler-service.js';
import { stateBackendsUnderTest } from '../../helpers/state-backends.js';
import { queuedTask } from '../../state/tasks/queue-fixture.js';

/**
 * The pull protocol over real HTTP on loopback: hello and version negotiation, who may work
 * which pool, and long-poll claims woken by the queue's signals.
 */

for (const backend of stateBackendsUnderTest()) {
  describe.skipIf(backend.skipReason !== '')(`the pull protocol on ${backend.name}`, () => {
    let scheduler: TestScheduler | undefined;

    async function start(): Promise<TestScheduler> {
      scheduler = await startTestScheduler(backend, {
        retryBackoff: { baseDelayMs: 200, maxDelayMs: 200 },
      });
      return scheduler;
    }

    afterEach(async () => {
      await scheduler?.close();
      scheduler = undefined;
    });

    it('picks the newest version both sides speak and records the Executor', async () => {
      const scheduler = await start();
      const client = await createTestClient(scheduler, 'runner', ['executor:run']);
      const protocol = protocolClient(scheduler.url, client.token);

      const hello = await protocol.hello(
        helloBody('runner-1', ['run'], { protocol_versions: [1, 2, 9], slots: 8 }),
      );

      expect(hello.status).toBe(200);
      expect(hello.body).toEqual({
        protocol_version: 1,
        executor_id: 'runner-1',
        poll_wait_sec: 25,
        heartbeat_interval_sec: 15,
        lease_sec: 60,
      });
      expect(await readExecutor(scheduler.store, 'runner-1')).toMatchObject({
        clientId: 'runner',
        pools: ['run'],
        slots: 8,
        protocolVersion: 1,
        agent: 'sluice-test/1',
      });
    });

    it('answers 426 naming the versions it speaks when none is common', async () => {
      const scheduler = await start();
      const client = await createTestClient(scheduler, 'runner', ['executor:run']);
      const protocol = protocolClient(scheduler.url, client.token);

      const hello = await protocol.hello(
        helloBody('runner-1', ['run'], { protocol_versions: [2, 3] }),
      );

      expect(hello.status).toBe(426);
      expect(hello.body.error.code).toBe('protocol_unsupported');
      expect(hello.body.error.message).toContain('speaks protocol version 1');
      expect(await readExecutor(scheduler.store, 'runner-1')).toBeUndefined();
    });

    it('refuses an Executor id that another client registered', async () => {
      const scheduler = await start();
      await startTestExecutor(scheduler, 'runner', ['executor:run'], ['run']);
      const other = await createTestClient(scheduler, 'intruder', ['executor:run']);

      const hello = await protocolClient(scheduler.url, other.token).hello(
        helloBody('runner-1', ['run']),
      );

      expect(hello.status).toBe(403);
      expect(hello.body.error.field).toBe('body.executor_id');
      expect((await readExecutor(scheduler.store, 'runner-1'))?.clientId).toBe('runner');
    });

    it('refuses a viewer, and a run Executor asking for the apply pool', async () => {
      const scheduler = await start();
      const viewer = await createTestClient(scheduler, 'looker', ['viewer']);
      const viewerHello = await protocolClient(scheduler.url, viewer.token).hello(
        helloBody('looker-1', ['run']),
      );
      expect(viewerHello.status).toBe(403);
      expect(viewerHello.body.error.message).toContain("'tasks:pull'");

      const runner = await startTestExecutor(scheduler, 'runner', ['executor:run'], ['run']);
      const applyHello = await runner.protocol.hello(helloBody('runner-1', ['run', 'apply']));
      expect(applyHello.status).toBe(403);
      expect(applyHello.body.error.message).toContain("'apply' pool");
      expect(applyHello.body.error.message).toContain("'executor:apply'");

      const applyClaim = await runner.protocol.claim({
        executor_id: 'runner-1',
        max_tasks: 1,
        wait_sec: 0,
        pools: ['apply'],
      });
      expect(applyClaim.status).toBe(403);
      expect(applyClaim.body.error.message).toContain("'executor:apply'");
    });

    it('answers 409 to a claim from an Executor that never said hello', async () => {
      const scheduler = await start();
      const client = await createTestClient(scheduler, 'runner', ['executor:run']);

      const claim = await protocolClient(scheduler.url, client.token).claim({
        executor_id: 'runner-1',
        max_tasks: 1,
        wait_sec: 0,
      });

      expect(claim.status).toBe(409);
      expect(claim.body.error.message).toContain('POST /v1/executors/hello');
    });

    it('answers a waiting claim with the task enqueued while it waits', async () => {
      const scheduler = await start();
      const runner = await startTestExecutor(scheduler, 'runner', ['executor:run'], ['run']);
      const waitingBefore = countLines(scheduler.logs, 'claim waiting');

      const claim = runner.protocol.claim({
        executor_id: runner.executorId,
        max_tasks: 4,
        wait_sec: 20,
      });
      await logLineAfter(scheduler.logs, 'claim waiting', waitingBefore);
      await enqueueTasks(scheduler.store, [queuedTask('t1')], Date.now());

      const answer = await claim;
      expect(answer.status).toBe(200);
      expect(answer.body.tasks).toEqual([
        {
          id: 't1',
          attempt: 1,
          epoch: 1,
          lease_expires_at_ms: expect.any(Number),
          task: expect.objectContaining({ id: 't1', kind: 'promote', pool: 'run', runId: 'run-1' }),
        },
      ]);
      expect(await readTaskRecord(scheduler.store, 't1')).toMatchObject({
        status: 'leased',
        owner: 'runner',
        executorId: 'runner-1',
      });
    });

    it('answers 204 without a body when nothing became ready within the wait', async () => {
      const scheduler = await start();
      const runner = await startTestExecutor(scheduler, 'runner', ['executor:run'], ['run']);
      await enqueueTasks(scheduler.store, [queuedTask('plan-task', { pool: 'apply' })], Date.now());

      for (const waitSec of [0, 1]) {
        const claim = await runner.protocol.claim({
          executor_id: runner.executorId,
          max_tasks: 1,
          wait_sec: waitSec,
        });
        expect(claim).toEqual({ status: 204, body: undefined });
      }
      expect((await readTaskRecord(scheduler.store, 'plan-task')).status).toBe('ready');
    });

    it('hands out no more tasks than max_tasks asks for', async () => {
      const scheduler = await start();
      const runner = await startTestExecutor(scheduler, 'runner', ['executor:run'], ['run']);
      const ids = ['a', 'b', 'c', 'd', 'e'];
      await enqueueTasks(
        scheduler.store,
        ids.map((id) => queuedTask(id)),
        Date.now(),
      );

      const sizes: number[] = [];
      for (const maxTasks of [2, 2, 2]) {
        const claim = await runner.protocol.claim({
          executor_id: runner.executorId,
          max_tasks: maxTasks,
          wait_sec: 0,
        });
        sizes.push(claim.body.tasks.length);
      }

      expect(sizes).toEqual([2, 2, 1]);
      const more = await runner.protocol.claim({ executor_id: runner.executorId, max_tasks: 5 });
      expect(more.status).toBe(400);
      expect(more.body.error.field).toBe('body.max_tasks');
    });

    it("wakes a waiting claim when a retried task's backoff ends", async () => {
      const scheduler = await start();
      const runner = await startTestExecutor(scheduler, 'runner', ['executor:run'], ['run']);
      await enqueueTasks(scheduler.store, [queuedTask('flaky')], Date.now());
      const first = await runner.protocol.claim({ executor_id: runner.executorId, max_tasks: 1 });
      const failed = await runner.protocol.complete(
        'flaky',
        {
          epoch: first.body.tasks[0].epoch,
          outcome: {
            status: 'failed',
            duration_ms: 3,
            error: { code: 'engine_error', message: 'the engine went away', retryable: true },
          },
        },
        'flaky-1',
      );
      expect(failed.body.task_status).toBe('retrying');

      const retried = await runner.protocol.claim({
        executor_id: runner.executorId,
        max_tasks: 1,
        wait_sec: 10,
      });

      expect(retried.status).toBe(200);
      expect(retried.body.tasks[0]).toMatchObject({ id: 'flaky', attempt: 2, epoch: 2 });
    });

    it('ends a claim whose caller went away without leasing it anything', async () => {
      const scheduler = await start();
      const quitter = await startTestExecutor(scheduler, 'quitter', ['executor:run'], ['run']);
      const runner = await startTestExecutor(scheduler, 'runner', ['executor:run'], ['run']);
      const waitingBefore = countLines(scheduler.logs, 'claim waiting');

      const aborted = new AbortController();
      const gone = quitter.protocol
        .claim(
          { executor_id: quitter.executorId, max_tasks: 1, wait_sec: 30 },
          { signal: aborted.signal },
        )
        .catch((error: unknown) => error);
      await logLineAfter(scheduler.logs, 'claim waiting', waitingBefore);
      aborted.abort();
      expect(await gone).toBeInstanceOf(Error);
      await logLineAfter(scheduler.logs, 'claim abandoned', 0);
      await enqueueTasks(scheduler.store, [queuedTask('t1')], Date.now());

      const claim = await runner.protocol.claim({
        executor_id: runner.executorId,
        max_tasks: 1,
        wait_sec: 10,
      });
      expect(claim.body.tasks[0]).toMatchObject({ id: 't1', attempt: 1 });
      expect((await readTaskRecord(scheduler.store, 't1')).owner).toBe('runner');
    });

    it('answers a waiting claim with 204 when the service closes', async () => {
      const closing = await startTestScheduler(backend);
      scheduler = closing;
      const runner = await startTestExecutor(closing, 'runner', ['executor:run'], ['run']);
      const waitingBefore = countLines(closing.logs, 'claim waiting');

      const claim = runner.protocol.claim({
        executor_id: runner.executorId,
        max_tasks: 1,
        wait_sec: 50,
      });
      await logLineAfter(closing.logs, 'claim waiting', waitingBefore);
      scheduler = undefined;
      await closing.close();

      expect(await claim).toEqual({ status: 204, body: undefined });
      expect(countLines(closing.logs, 'task dispatcher stopped')).toBe(1);
    });

    it('shows the queue depth per pool in /metrics', async () => {
      const scheduler = await start();
      const tasks = [
        queuedTask('r1'),
        queuedTask('r2'),
        queuedTask('a1', { pool: 'apply' }),
        queuedTask('r3', { dependsOn: ['r1'] }),
      ];
      await enqueueTasks(scheduler.store, tasks, Date.now());
      const viewer = await createTestClient(scheduler, 'looker', ['viewer']);

      const metrics = await callApi(scheduler, '/metrics', { token: viewer.token });

      expect(metrics.status).toBe(200);
      expect(metrics.text).toContain('sluice_task_queue_ready{pool="run"} 2');
      expect(metrics.text).toContain('sluice_task_queue_ready{pool="apply"} 1');
    });
  });
}
