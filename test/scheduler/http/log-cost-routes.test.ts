import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CostRates } from '../../../src/state/tasks/attempt-pricing.js';
import { enqueueTasks } from '../../../src/state/tasks/enqueue-tasks.js';
import { startTestExecutor, type TestExecutor } from '../../helpers/protocol-client.js';
import {
  callApi,
  createTestClient,
  startTestScheduler,
  type TestClient,
  type TestScheduler,
} from '../../helpers/scheduler-service.js';
import { stateBackendsUnderTest } from '../../helpers/state-backends.js';
import { queuedTask } from '../../state/tasks/queue-fixture.js';

/**
 * The log and cost routes over real HTTP on loopback, with tasks worked through the pull
 * protocol: an Executor claims, sends logs and completes (once failing, then succeeding, and
 * once replaying a completion), and a viewer reads the lines and the cost.
 */

const T0 = 1_800_000_000_000;
const HOUR_MS = 3_600_000;
const MARKER = 'marker-7f3a relation raw.orders is missing';

const RATES: CostRates = new Map([
  ['warehouse', { kind: 'per_compute_hour', amount: 3.2, currency: 'USD' }],
  ['lake', { kind: 'per_tb_scanned', amount: 5, currency: 'USD' }],
]);

for (const backend of stateBackendsUnderTest()) {
  describe.skipIf(backend.skipReason !== '')(`log and cost routes on ${backend.name}`, () => {
    let scheduler: TestScheduler;
    let runner: TestExecutor;
    let viewer: TestClient;
    let nowMs = T0;

    const read = (path: string, client: { token: string } = viewer) =>
      callApi(scheduler, path, { token: client.token });

    async function claimEpoch(): Promise<number> {
      const claim = await runner.protocol.claim({
        executor_id: runner.executorId,
        max_tasks: 1,
        wait_sec: 0,
      });
      return claim.body.tasks[0].epoch;
    }

    async function sendLogs(taskId: string, epoch: number, lines: [string, string][]) {
      nowMs += 10;
      const body = {
        epoch,
        seq: 1,
        lines: lines.map(([level, message]) => ({ at_ms: nowMs, level, message })),
      };
      expect((await runner.protocol.logs(taskId, body)).status).toBe(200);
    }

    /** t1 (warehouse) fails once, then succeeds; t2 (lake) succeeds, its completion replayed. */
    async function workTasks(): Promise<void> {
      const task = (id: string, gateway: string, modelName: string) =>
        queuedTask(id, { runId: 'run-1', environment: 'prod', gateway, modelName });
      await enqueueTasks(scheduler.store, [task('t1', 'warehouse', 'shop.orders')], nowMs);
      const first = await claimEpoch();
      await sendLogs('t1', first, [
        ['info', 'starting shop.orders'],
        ['error', `Engine error: ${MARKER}`],
      ]);
      const failed = await runner.protocol.complete(
        't1',
        {
          epoch: first,
          outcome: {
            status: 'failed',
            duration_ms: HOUR_MS / 2,
            error: { code: 'engine_error', message: 'the engine refused', retryable: true },
          },
        },
        't1-fail',
      );
      nowMs = failed.body.retry_at_ms;
      const second = await claimEpoch();
      await sendLogs('t1', second, [
        ['info', 'starting shop.orders again'],
        ['warn', 'engine slow: 40 s'],
        ['info', 'wrote 12 rows'],
      ]);
      await complete('t1', second, HOUR_MS, 't1-done');

      await enqueueTasks(scheduler.store, [task('t2', 'lake', 'shop.events')], nowMs);
      const epoch = await claimEpoch();
      await sendLogs('t2', epoch, [['debug', 'scanning the lake']]);
      const answer = await complete('t2', epoch, 1_000, 't2-done', 2e12);
      const replay = await complete('t2', epoch, 1_000, 't2-done', 2e12);
      expect(replay).toEqual(answer);
    }

    async function complete(
      taskId: string,
      epoch: number,
      durationMs: number,
      key: string,
      bytesScanned?: number,
    ) {
      const answer = await runner.protocol.complete(
        taskId,
        {
          epoch,
          outcome: { status: 'succeeded', rows_written: 12, duration_ms: durationMs },
          ...(bytesScanned === undefined ? {} : { cost: { bytes_scanned: bytesScanned } }),
        },
        key,
      );
      expect(answer.status).toBe(200);
      return answer;
    }

    beforeAll(async () => {
      scheduler = await startTestScheduler(backend, {
        now: () => nowMs,
        costRates: RATES,
        retryBackoff: { baseDelayMs: 1_000, maxDelayMs: 1_000 },
      });
      runner = await startTestExecutor(scheduler, 'runner', ['executor:run'], ['run']);
      viewer = await createTestClient(scheduler, 'viewer-1', ['viewer']);
      await workTasks();
    });

    afterAll(async () => {
      await scheduler?.close();
    });

    it("searches a task's attempts by level and text, and one attempt", async () => {
      const warnings = await read('/v1/tasks/t1/logs?level=warn');
      const engine = await read('/v1/tasks/t1/logs?q=ENGINE');
      const second = await read('/v1/tasks/t1/logs?attempt=2&order=newest');

      expect(warnings.status).toBe(200);
      expect(warnings.json).toEqual({
        lines: [
          {
            task_id: 't1',
            attempt: 1,
            at_ms: T0 + 10,
            level: 'error',
            message: `Engine error: ${MARKER}`,
          },
          expect.objectContaining({ attempt: 2, level: 'warn', message: 'engine slow: 40 s' }),
        ],
        next: null,
      });
      expect(engine.json.lines.map((line: { attempt: number }) => line.attempt)).toEqual([1, 2]);
      expect(second.json.lines.map((line: { message: string }) => line.message)).toEqual([
        'wrote 12 rows',
        'engine slow: 40 s',
        'starting shop.orders again',
      ]);
    });

    it("pages through a run's lines with limit and after", async () => {
      const messages: string[] = [];
      let after: string | null = null;
      do {
        const query: string = after === null ? '' : `&after=${after}`;
        const page = await read(`/v1/runs/run-1/logs?limit=2${query}`);
        expect(page.status).toBe(200);
        messages.push(...page.json.lines.map((line: { message: string }) => line.message));
        after = page.json.next;
      } while (after !== null);

      expect(messages).toEqual([
        'starting shop.orders',
        `Engine error: ${MARKER}`,
        'starting shop.orders again',
        'engine slow: 40 s',
        'wrote 12 rows',
        'scanning the lake',
      ]);
    });

    it('refuses an Executor token, an unknown task or run, and a bad query', async () => {
      const executor = await read('/v1/tasks/t1/logs', runner.protocol);
      const executorCost = await read('/v1/cost', runner.protocol);
      const unknownTask = await read('/v1/tasks/nope/logs');
      const unknownRun = await read('/v1/runs/nope/logs');
      const badCursor = await read('/v1/tasks/t1/logs?after=not-a-cursor');
      const runAttempt = await read('/v1/runs/run-1/logs?attempt=1');
      const badSince = await read('/v1/cost?since=yesterday');

      expect(executor.status).toBe(403);
      expect(executor.json.error.message).toContain("'state:read'");
      expect(executorCost.status).toBe(403);
      expect(unknownTask.status).toBe(404);
      expect(unknownRun.status).toBe(404);
      expect(unknownRun.json.error.message).toContain("No run 'nope'");
      expect([badCursor.status, badCursor.json.error.field]).toEqual([400, 'query.after']);
      expect(runAttempt.status).toBe(400);
      expect([badSince.status, badSince.json.error.field]).toEqual([400, 'query.since']);
    });

    it('prices each accepted attempt once, the replayed completion included', async () => {
      const byModel = await read('/v1/cost?group_by=model');
      const byRun = await read('/v1/cost?group_by=run&environment=prod');
      const prod = await read('/v1/environments/prod/cost');
      const before = await read(`/v1/cost?until=${new Date(T0).toISOString()}`);

      expect(byModel.status).toBe(200);
      expect(byModel.json).toEqual({
        group_by: 'model',
        totals: [
          {
            key: 'shop.events',
            costs: [{ currency: 'USD', amount: expect.closeTo(10, 10) }],
            attempts: 1,
            unpriced_attempts: 0,
            duration_ms: 1_000,
            bytes_scanned: 2e12,
            rows_written: 12,
          },
          {
            key: 'shop.orders',
            costs: [{ currency: 'USD', amount: expect.closeTo(1.6 + 3.2, 10) }],
            attempts: 2,
            unpriced_attempts: 0,
            duration_ms: HOUR_MS * 1.5,
            bytes_scanned: 0,
            rows_written: 12,
          },
        ],
      });
      expect(byRun.json.totals.map((total: { key: string }) => total.key)).toEqual(['run-1']);
      expect(prod.json).toMatchObject({
        environment: 'prod',
        total: { key: 'prod', attempts: 3 },
        avoided: { costs: [], versions: 0, attempts: 0 },
      });
      expect(before.json.totals).toEqual([]);
    });

    it("never writes log lines into the service's own log", () => {
      expect(scheduler.logs.some((line) => line.includes('marker-7f3a'))).toBe(false);
      expect(scheduler.logs.some((line) => line.includes('/v1/tasks/:id/logs'))).toBe(true);
    });
  });
}
