import { afterEach, describe, expect, it, vi } from 'vitest';
import { proxySettingsFromEnv } from '../../../src/executor/protocol/proxy-settings.js';
import type { Worker } from '../../../src/executor/worker/worker.js';
import { enqueueTasks } from '../../../src/state/tasks/enqueue-tasks.js';
import { cancelRunTasks } from '../../../src/state/tasks/reap-tasks.js';
import { readTaskLogs } from '../../../src/state/tasks/task-logs.js';
import { readTaskRecord } from '../../../src/state/tasks/task-queries.js';
import { startTestScheduler, type TestScheduler } from '../../helpers/scheduler-service.js';
import { stateBackendsUnderTest } from '../../helpers/state-backends.js';
import { queuedTask } from '../../state/tasks/queue-fixture.js';
import { startTestProxy, type TestProxy } from '../protocol/test-proxy.js';
import { startTestWorker, taskReaches, untilAborted } from './worker-fixture.js';

/**
 * The Executor's worker loop against a real Scheduler over HTTP on loopback, with an injected
 * task function instead of an engine.
 */

const QUICK = { heartbeatIntervalSec: 1, leaseSec: 4, pollWaitSec: 1, reapIntervalMs: 100 };

for (const backend of stateBackendsUnderTest()) {
  describe.skipIf(backend.skipReason !== '')(`the worker loop on ${backend.name}`, () => {
    const schedulers: TestScheduler[] = [];
    const workers: Worker[] = [];
    let proxy: TestProxy | undefined;

    afterEach(async () => {
      for (const worker of workers.splice(0)) await worker.stop(0);
      for (const scheduler of schedulers.splice(0).reverse()) await scheduler.close();
      await proxy?.close();
      proxy = undefined;
    });

    async function scheduler(options = {}, sharing?: TestScheduler): Promise<TestScheduler> {
      const started = await startTestScheduler(backend, { ...QUICK, ...options }, sharing);
      schedulers.push(started);
      return started;
    }

    it('runs no more tasks at once than it has slots, ships their logs and completes them', async () => {
      const service = await scheduler();
      await enqueueTasks(
        service.store,
        ['t1', 't2', 't3'].map((id) => queuedTask(id)),
        Date.now(),
      );
      let running = 0;
      let mostRunning = 0;
      const { worker, logs, secret } = await startTestWorker(service, async (task, { log }) => {
        running += 1;
        mostRunning = Math.max(mostRunning, running);
        log('info', `building ${task.id}`);
        await new Promise((resolve) => setTimeout(resolve, 150));
        running -= 1;
        return {
          status: 'succeeded',
          rowsWritten: 3,
          durationMs: 7,
          usage: { bytesScanned: 2048, engineQueryIds: ['q-1'] },
        };
      });
      workers.push(worker);

      for (const id of ['t1', 't2', 't3']) await taskReaches(service, id, 'succeeded');

      expect(mostRunning).toBe(2);
      expect((await readTaskRecord(service.store, 't1')).lastReport).toEqual({
        outcome: { status: 'succeeded', rows_written: 3, duration_ms: 7 },
        cost: { bytes_scanned: 2048, engine_query_ids: ['q-1'] },
      });
      await vi.waitFor(async () => {
        const lines = await readTaskLogs(service.store, 't2', 1);
        expect(lines.map((line) => line.message)).toEqual(['building t2']);
      });
      await worker.stop(1000);
      expect(worker.state).toBe('stopped');
      expect(logs.join('\n')).not.toContain(secret);
      expect(logs.some((line) => line.includes('"msg":"worker running"'))).toBe(true);
    });

    it('aborts a task whose lease was lost and sends no completion for it', async () => {
      let nowMs = Date.now();
      const service = await scheduler({ now: () => nowMs });
      await enqueueTasks(service.store, [queuedTask('t1', { maxAttempts: 1 })], nowMs);
      const seen: { reason?: unknown; tasks: string[] } = { tasks: [] };
      const { worker } = await startTestWorker(service, untilAborted(seen));
      workers.push(worker);
      await vi.waitFor(() => expect(seen.tasks).toEqual(['t1']));

      nowMs += 60_000;

      await vi.waitFor(() => expect(seen.reason).toBeDefined(), { timeout: 10_000 });
      expect(String(seen.reason)).toContain('no longer leased to this Executor');
      await vi.waitFor(() => expect(worker.heldTasks).toBe(0));
      const record = await readTaskRecord(service.store, 't1');
      expect(record.status).toBe('failed');
      expect(record.lastReport).toBeUndefined();
    });

    it('aborts a task whose run was cancelled and completes it, which cancels it', async () => {
      const service = await scheduler();
      await enqueueTasks(service.store, [queuedTask('t1')], Date.now());
      const seen: { reason?: unknown; tasks: string[] } = { tasks: [] };
      const { worker } = await startTestWorker(service, untilAborted(seen));
      workers.push(worker);
      await vi.waitFor(() => expect(seen.tasks).toEqual(['t1']));

      await cancelRunTasks(service.store, 'run-1', Date.now());

      await taskReaches(service, 't1', 'cancelled');
      expect(String(seen.reason)).toContain('cancelled with its run');
      expect((await readTaskRecord(service.store, 't1')).lastReport).toMatchObject({
        outcome: { status: 'failed', error: { code: 'query_cancelled', retryable: false } },
      });
    });

    it('lets a task finish within the grace period at stop, and releases one that does not', async () => {
      const service = await scheduler();
      await enqueueTasks(service.store, [queuedTask('quick'), queuedTask('slow')], Date.now());
      const seen: { reason?: unknown; tasks: string[] } = { tasks: [] };
      let isStopping = false;
      const { worker } = await startTestWorker(service, async (task, context) => {
        if (task.id === 'slow') return untilAborted(seen)(task, context);
        await vi.waitFor(() => expect(isStopping).toBe(true), { timeout: 10_000 });
        await new Promise((resolve) => setTimeout(resolve, 100));
        return { status: 'succeeded', rowsWritten: 1, durationMs: 100 };
      });
      await vi.waitFor(() => expect(worker.heldTasks).toBe(2));

      isStopping = true;
      await worker.stop(1500);

      expect(worker.state).toBe('stopped');
      expect(String(seen.reason)).toContain('the Executor is stopping');
      expect((await readTaskRecord(service.store, 'quick')).status).toBe('succeeded');
      const slow = await readTaskRecord(service.store, 'slow');
      expect(slow.status).toBe('ready');
      expect(slow.lastReport).toBeUndefined();
    });

    it('resumes by itself when the Scheduler it long-polls is restarted on the same state', async () => {
      const owner = await scheduler();
      const first = await scheduler({}, owner);
      const port = Number(new URL(first.url).port);
      const done: string[] = [];
      const { worker } = await startTestWorker(
        first,
        async (task) => {
          done.push(task.id);
          return { status: 'succeeded', rowsWritten: 0, durationMs: 1 };
        },
        { url: first.url },
      );
      workers.push(worker);
      await vi.waitFor(() => expect(worker.state).toBe('running'));

      schedulers.splice(schedulers.indexOf(first), 1);
      await first.close();
      await new Promise((resolve) => setTimeout(resolve, 300));
      await scheduler({ listenPort: port }, owner);
      await enqueueTasks(owner.store, [queuedTask('after-restart')], Date.now());

      await taskReaches(owner, 'after-restart', 'succeeded');
      expect(done).toEqual(['after-restart']);
      expect(worker.state).toBe('running');
    });

    it('sends a completion whose answer was lost again with the same idempotency key', async () => {
      const service = await scheduler();
      let completions = 0;
      proxy = await startTestProxy((request) => {
        if (!request.target.endsWith('/complete')) return { action: 'forward' };
        completions += 1;
        return completions === 1 ? { action: 'drop-answer' } : { action: 'forward' };
      });
      await enqueueTasks(service.store, [queuedTask('t1')], Date.now());
      const { worker, logs } = await startTestWorker(
        service,
        async () => ({ status: 'succeeded', rowsWritten: 5, durationMs: 2 }),
        { proxy: proxySettingsFromEnv({ HTTP_PROXY: proxy.url }) },
      );
      workers.push(worker);

      await taskReaches(service, 't1', 'succeeded');
      await vi.waitFor(() => expect(worker.heldTasks).toBe(0));

      const sent = proxy.seen.filter((request) => request.target.endsWith('/t1/complete'));
      expect(sent).toHaveLength(2);
      expect(sent[1]?.headers['idempotency-key']).toBe(sent[0]?.headers['idempotency-key']);
      const ended = logs.map((line) => JSON.parse(line)).find((line) => line.msg === 'task ended');
      expect(ended).toMatchObject({ taskId: 't1', as: 'completed', taskStatus: 'succeeded' });
    });
  });
}
