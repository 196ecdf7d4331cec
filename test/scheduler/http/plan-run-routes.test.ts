import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { EngineAdapter } from '../../../src/engines/engine-adapter.js';
import { readTaskRecord } from '../../../src/state/tasks/task-queries.js';
import { DUCKDB_PROJECT_CONFIG, openProjectDuckDb, planBody } from '../../helpers/api-plans.js';
import { type EngineExecutor, startEngineExecutor } from '../../helpers/engine-executor.js';
import {
  callApi,
  createTestClient,
  startTestScheduler,
  type TestScheduler,
} from '../../helpers/scheduler-service.js';
import { stateBackendsUnderTest } from '../../helpers/state-backends.js';
import { writeProject } from '../../helpers/temp-project.js';

/**
 * Plans and runs through the API over real HTTP: who may plan and apply where, an apply followed
 * by its events to the end, runs listed and shown, a run cancelled while its tasks wait, and a
 * failed model run again.
 */

function files(schema: string, totalsQuery: string) {
  return {
    'sluice.yaml': DUCKDB_PROJECT_CONFIG,
    'models/orders.sql': `MODEL (name ${schema}.orders, kind FULL, start '2024-01-01', end '2024-01-03');

SELECT 1 AS id, 5 AS amount
`,
    'models/totals.sql': `MODEL (name ${schema}.totals, kind FULL, start '2024-01-01', end '2024-01-03');

${totalsQuery}
`,
  };
}

for (const backend of stateBackendsUnderTest()) {
  describe.skipIf(backend.skipReason !== '')(`plans and runs over HTTP on ${backend.name}`, () => {
    const schema = `r${randomBytes(4).toString('hex')}_shop`;
    let root: string;
    let scheduler: TestScheduler;
    let engine: EngineAdapter;
    let executor: EngineExecutor | undefined;
    const tokens: Record<string, string> = {};

    const submit = async (environment: string, token: string) =>
      callApi(scheduler, `/v1/environments/${environment}/plans`, {
        token,
        json: await planBody(root, environment),
      });
    const apply = (environment: string, planId: string, token: string) =>
      callApi(scheduler, `/v1/environments/${environment}/plans/${planId}/apply`, {
        token,
        json: {},
      });
    /** Follows the run's events until it ends; the events and the run. */
    const follow = async (runId: string) => {
      const events: { type: string }[] = [];
      let after = 0;
      for (;;) {
        const page = await callApi(
          scheduler,
          `/v1/runs/${runId}/events?after=${after}&wait_sec=5`,
          {
            token: tokens.viewer,
          },
        );
        expect(page.status).toBe(200);
        for (const entry of page.json.events) {
          events.push(entry.event);
          after = entry.seq;
        }
        if (page.json.run.status !== 'running' && page.json.events.length === 0) {
          return { events, run: page.json.run };
        }
      }
    };

    beforeAll(async () => {
      root = await writeProject(files(schema, `SELECT SUM(amount) AS total FROM ${schema}.orders`));
      scheduler = await startTestScheduler(backend);
      for (const role of ['viewer', 'developer', 'deployer'] as const) {
        tokens[role] = (await createTestClient(scheduler, role, [role])).token;
      }
      engine = await openProjectDuckDb(root);
    });

    afterAll(async () => {
      await executor?.stop();
      await engine?.close();
      await scheduler?.close();
    });

    it('refuses a viewer a plan, and a developer or viewer an apply to prod, with 403', async () => {
      expect((await submit('prod', tokens.viewer as string)).status).toBe(403);
      const planned = await submit('prod', tokens.developer as string);
      expect(planned.status).toBe(200);
      expect(planned.json.has_changes).toBe(true);

      const planId = planned.json.plan.id;
      for (const role of ['developer', 'viewer']) {
        const refused = await apply('prod', planId, tokens[role] as string);
        expect(refused.status).toBe(403);
        expect(refused.json.error.code).toBe('auth_forbidden');
      }
    });

    it('refuses a plan whose body names another environment than its path', async () => {
      const body = await planBody(root, 'dev');
      const answer = await callApi(scheduler, '/v1/environments/prod/plans', {
        token: tokens.deployer,
        json: body,
      });
      expect(answer.status).toBe(400);
      expect(answer.json.error.field).toBe('environment');
    });

    it('applies a plan as a run Executors work, and records its events and results', async () => {
      executor = await startEngineExecutor(scheduler, engine);
      const planned = await submit('prod', tokens.deployer as string);
      const started = await apply('prod', planned.json.plan.id, tokens.deployer as string);
      expect(started.status).toBe(200);

      const { events, run } = await follow(started.json.run_id);
      expect(run).toMatchObject({ kind: 'apply', status: 'succeeded', environment: 'prod' });
      expect(run.summary).toMatchObject({ isPromoted: true, revision: 1 });
      expect(events.filter((event) => event.type === 'model_finished')).toHaveLength(2);
      expect((await engine.query(`SELECT total FROM ${schema}.totals`)).rows).toEqual([
        { total: 5 },
      ]);

      const listed = await callApi(scheduler, '/v1/runs?environment=prod', {
        token: tokens.viewer,
      });
      expect(listed.json.runs.map((one: { id: string }) => one.id)).toContain(run.id);
    });

    it('lists the Executors and the queue depth per pool', async () => {
      const executors = await callApi(scheduler, '/v1/executors', { token: tokens.viewer });
      expect(executors.status).toBe(200);
      expect(executors.json.executors).toHaveLength(1);
      expect(executors.json.executors[0]).toMatchObject({ slots: 4 });
      expect([...executors.json.executors[0].pools].sort()).toEqual(['apply', 'run']);

      const queue = await callApi(scheduler, '/v1/queue', { token: tokens.viewer });
      expect(queue.json.pools).toEqual({
        apply: { ready: 0, blocked: 0, leased: 0 },
        run: { ready: 0, blocked: 0, leased: 0 },
      });
    });

    it('restates a model over a range as a plan of the environment as it is', async () => {
      const range = { start_ms: Date.UTC(2024, 0, 1), end_ms: Date.UTC(2024, 0, 4) };
      const refused = await callApi(scheduler, '/v1/environments/prod/restate', {
        token: tokens.developer,
        json: { models: [`${schema}.orders`], ...range },
      });
      expect(refused.status).toBe(403);

      const started = await callApi(scheduler, '/v1/environments/prod/restate', {
        token: tokens.deployer,
        json: { models: [`${schema}.orders`], ...range },
      });
      expect(started.status).toBe(200);
      const { run } = await follow(started.json.run_id);
      expect(run).toMatchObject({ kind: 'apply', status: 'succeeded' });
      const outcomes = Object.fromEntries(
        run.summary.models.map((model: { modelName: string; outcome: string }) => [
          model.modelName,
          model.outcome,
        ]),
      );
      expect(outcomes).toEqual({
        [`${schema}.orders`]: 'succeeded',
        [`${schema}.totals`]: 'succeeded',
      });
    });

    it('refuses to apply the same plan twice', async () => {
      const listed = await callApi(scheduler, '/v1/runs?environment=prod&status=succeeded', {
        token: tokens.viewer,
      });
      const planId = listed.json.runs.at(-1).plan_id;
      const again = await apply('prod', planId, tokens.deployer as string);
      expect(again.status).toBe(409);
      expect(again.json.error.code).toBe('plan_applied');
    });

    it('cancels a run whose tasks wait for an Executor', async () => {
      await executor?.stop();
      executor = undefined;
      await writeProject(
        files(schema, `SELECT SUM(amount) * 2 AS total FROM ${schema}.orders`),
        root,
      );
      const planned = await submit('prod', tokens.deployer as string);
      const started = await apply('prod', planned.json.plan.id, tokens.deployer as string);
      const runId = started.json.run_id;
      await vi.waitFor(async () => {
        const waiting = await scheduler.store.db
          .selectFrom('sluice_tasks')
          .select('id')
          .where('run_id', '=', runId)
          .execute();
        expect(waiting.length).toBeGreaterThan(0);
      });

      const cancelled = await callApi(scheduler, `/v1/environments/prod/runs/${runId}/cancel`, {
        token: tokens.deployer,
        json: {},
      });
      expect(cancelled.status).toBe(200);
      const { run } = await follow(runId);
      expect(run.status).toBe('cancelled');
      const tasks = await scheduler.store.db
        .selectFrom('sluice_tasks')
        .select('id')
        .where('run_id', '=', runId)
        .execute();
      for (const task of tasks) {
        expect((await readTaskRecord(scheduler.store, String(task.id))).status).toBe('cancelled');
      }
    });

    it('applies a failed plan again when asked to run its run again', async () => {
      executor = await startEngineExecutor(scheduler, engine);
      await writeProject(
        files(schema, `SELECT SUM(amount) AS total FROM ${schema}.orders, ${schema}_raw.gate`),
        root,
      );
      const planned = await submit('prod', tokens.deployer as string);
      const started = await apply('prod', planned.json.plan.id, tokens.deployer as string);
      const failedRun = (await follow(started.json.run_id)).run;
      expect(failedRun.status).toBe('failed');
      expect(failedRun.summary.isPromoted).toBe(false);
      const elsewhere = await callApi(
        scheduler,
        `/v1/environments/dev/runs/${failedRun.id}/rerun`,
        {
          token: tokens.developer,
          json: {},
        },
      );
      expect(elsewhere.status).toBe(409);

      await engine.execute(`CREATE SCHEMA ${schema}_raw`);
      await engine.execute(`CREATE TABLE ${schema}_raw.gate AS SELECT 1 AS open`);
      const again = await callApi(scheduler, `/v1/environments/prod/runs/${failedRun.id}/rerun`, {
        token: tokens.deployer,
        json: {},
      });
      expect(again.status).toBe(200);
      const { run } = await follow(again.json.run_id);
      expect(run).toMatchObject({ kind: 'apply', status: 'succeeded', plan_id: failedRun.plan_id });
      expect((await engine.query(`SELECT total FROM ${schema}.totals`)).rows).toEqual([
        { total: 5 },
      ]);
    });
  });
}
