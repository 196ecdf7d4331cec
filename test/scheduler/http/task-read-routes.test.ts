import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SchedulerApiClient } from '../../../src/cli/api-client.js';
import { followRemoteRun } from '../../../src/cli/remote-runs.js';
import type { EngineAdapter } from '../../../src/engines/engine-adapter.js';
import type { RunInfo } from '../../../src/protocol/runs-api.js';
import { DUCKDB_PROJECT_CONFIG, openProjectDuckDb, planBody } from '../../helpers/api-plans.js';
import { dailyOrdersModel } from '../../helpers/daily-orders.js';
import { type EngineExecutor, startEngineExecutor } from '../../helpers/engine-executor.js';
import {
  callApi,
  createTestClient,
  startTestScheduler,
  type TestClient,
  type TestScheduler,
} from '../../helpers/scheduler-service.js';
import { stateBackendsUnderTest } from '../../helpers/state-backends.js';
import { writeProject } from '../../helpers/temp-project.js';

/**
 * Reading a run's tasks and one task over real HTTP, after applies worked by an Executor on
 * DuckDB: what each task did and how it ended, paging, the last reported outcome (a success and
 * a failure, none while the task waits), 404s for what does not exist, readers allowed and
 * Executors refused.
 */

function files(schema: string, totalsFrom: string) {
  return {
    'sluice.yaml': DUCKDB_PROJECT_CONFIG,
    'models/orders.sql': dailyOrdersModel({ schema, batchSize: 2, end: '2024-01-04' }),
    'models/totals.sql': `MODEL (name ${schema}.totals, kind FULL, start '2024-01-01', end '2024-01-04');

SELECT SUM(amount) AS total FROM ${totalsFrom}
`,
  };
}

for (const backend of stateBackendsUnderTest()) {
  describe.skipIf(backend.skipReason !== '')(`task reading routes on ${backend.name}`, () => {
    const schema = `r${randomBytes(4).toString('hex')}_shop`;
    let root: string;
    let scheduler: TestScheduler;
    let engine: EngineAdapter;
    let executor: EngineExecutor | undefined;
    let viewer: TestClient;
    let deployer: TestClient;
    let executorToken: string;
    let applied: RunInfo;
    let failed: RunInfo;

    /** Plans the project on disk for prod and starts applying it; the run's id. */
    const startApply = async (): Promise<string> => {
      const planned = await callApi(scheduler, '/v1/environments/prod/plans', {
        token: deployer.token,
        json: await planBody(root, 'prod'),
      });
      const path = `/v1/environments/prod/plans/${planned.json.plan.id}/apply`;
      const started = await callApi(scheduler, path, { token: deployer.token, json: {} });
      return started.json.run_id;
    };
    /** Applies the project on disk to prod and follows the run to its end. */
    const applyProject = async (): Promise<RunInfo> => {
      const api = new SchedulerApiClient({
        url: scheduler.url,
        clientId: viewer.clientId,
        clientSecret: viewer.secret,
      });
      return followRemoteRun(api, await startApply(), () => undefined);
    };
    const read = (path: string, token = viewer.token) => callApi(scheduler, path, { token });

    beforeAll(async () => {
      root = await writeProject(files(schema, `${schema}.orders`));
      scheduler = await startTestScheduler(backend);
      viewer = await createTestClient(scheduler, 'viewer', ['viewer']);
      deployer = await createTestClient(scheduler, 'deployer', ['deployer']);
      executorToken = (await createTestClient(scheduler, 'puller', ['executor:run'])).token;
      engine = await openProjectDuckDb(root);
      executor = await startEngineExecutor(scheduler, engine);

      applied = await applyProject();
      await writeProject(files(schema, `${schema}.orders, ${schema}_raw.missing`), root);
      failed = await applyProject();
    });

    afterAll(async () => {
      await executor?.stop();
      await engine?.close();
      await scheduler?.close();
    });

    it('lists the tasks of an apply in the order it queued them, with what each did', async () => {
      expect(applied.status).toBe('succeeded');
      const answer = await read(`/v1/runs/${applied.id}/tasks`);

      expect(answer.status).toBe(200);
      expect(answer.json.next).toBeNull();
      const tasks = answer.json.tasks;
      const evaluations = tasks
        .filter((task: { kind: string }) => task.kind === 'evaluate')
        .map((task: { model_name: string; interval: unknown }) => [task.model_name, task.interval]);
      expect(evaluations).toEqual([
        [`${schema}.orders`, { start_ms: Date.UTC(2024, 0, 1), end_ms: Date.UTC(2024, 0, 3) }],
        [`${schema}.orders`, { start_ms: Date.UTC(2024, 0, 3), end_ms: Date.UTC(2024, 0, 5) }],
        [`${schema}.totals`, { start_ms: Date.UTC(2024, 0, 1), end_ms: Date.UTC(2024, 0, 5) }],
      ]);
      expect(tasks.map((task: { kind: string }) => task.kind)).toContain('promote');
      for (const task of tasks) {
        expect(task).toMatchObject({ run_id: applied.id, pool: 'apply', status: 'succeeded' });
        expect(task.attempt).toBe(1);
        expect(task.finished_at_ms).toBeGreaterThanOrEqual(task.created_at_ms);
      }
    });

    it('pages through the tasks and filters them by status', async () => {
      const all = (await read(`/v1/runs/${applied.id}/tasks`)).json.tasks;
      const paged: unknown[] = [];
      let after = '';
      for (;;) {
        const page = await read(`/v1/runs/${applied.id}/tasks?limit=2${after}`);
        paged.push(...page.json.tasks);
        if (page.json.next === null) break;
        after = `&after=${page.json.next}`;
      }
      expect(paged).toEqual(all);

      const succeeded = await read(`/v1/runs/${applied.id}/tasks?status=succeeded`);
      expect(succeeded.json.tasks).toEqual(all);
      const none = await read(`/v1/runs/${applied.id}/tasks?status=failed`);
      expect(none.json).toEqual({ tasks: [], next: null });
    });

    it('shows one task with the outcome its attempt reported', async () => {
      const tasks = (await read(`/v1/runs/${applied.id}/tasks`)).json.tasks;
      const evaluation = tasks.find((task: { kind: string }) => task.kind === 'evaluate');

      const answer = await read(`/v1/tasks/${evaluation.id}`);

      expect(answer.status).toBe(200);
      expect(answer.json.task).toMatchObject({ ...evaluation });
      expect(answer.json.task.last_outcome).toMatchObject({
        status: 'succeeded',
        rows_written: 2,
        error: null,
      });
      expect(answer.json.task.last_outcome.duration_ms).toBeGreaterThanOrEqual(0);
    });

    it("shows a failed task's error", async () => {
      expect(failed.status).toBe('failed');
      const tasks = (await read(`/v1/runs/${failed.id}/tasks?status=failed`)).json.tasks;
      expect(tasks).toHaveLength(1);

      const answer = await read(`/v1/tasks/${tasks[0].id}`);

      expect(answer.json.task).toMatchObject({ model_name: `${schema}.totals`, status: 'failed' });
      const outcome = answer.json.task.last_outcome;
      expect(outcome).toMatchObject({ status: 'failed', rows_written: null });
      expect(outcome.error.message).toContain('missing');
    });

    it('shows a task that no attempt completed yet without an outcome', async () => {
      await executor?.stop();
      executor = undefined;
      await writeProject(files(schema, `${schema}.orders WHERE amount > 1`), root);
      const runId = await startApply();
      const tasks = await vi.waitFor(async () => {
        const page = await read(`/v1/runs/${runId}/tasks`);
        expect(page.json.tasks.length).toBeGreaterThan(0);
        return page.json.tasks;
      });

      const answer = await read(`/v1/tasks/${tasks[0].id}`);

      expect(answer.json.task).toMatchObject({
        status: 'ready',
        attempt: 0,
        finished_at_ms: null,
        last_outcome: null,
      });
    });

    it('answers 404 for an unknown run or task, and 400 for a foreign cursor', async () => {
      const run = await read('/v1/runs/no-such-run/tasks');
      expect(run.status).toBe(404);
      expect(run.json.error.code).toBe('run_not_found');

      const task = await read('/v1/tasks/no-such-task');
      expect(task.status).toBe(404);
      expect(task.json.error.code).toBe('task_not_found');

      const someTask = (await read(`/v1/runs/${failed.id}/tasks?limit=1`)).json.tasks[0];
      const cursor = await read(`/v1/runs/${applied.id}/tasks?after=${someTask.id}`);
      expect(cursor.status).toBe(400);
      expect(cursor.json.error.code).toBe('request_invalid');
    });

    it("refuses an Executor's token on both routes", async () => {
      const tasks = (await read(`/v1/runs/${applied.id}/tasks`)).json.tasks;
      for (const path of [`/v1/runs/${applied.id}/tasks`, `/v1/tasks/${tasks[0].id}`]) {
        const answer = await read(path, executorToken);
        expect(answer.status, path).toBe(403);
        expect(answer.json.error.code, path).toBe('auth_forbidden');
      }
    });
  });
}
