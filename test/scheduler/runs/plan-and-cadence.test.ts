import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { EngineAdapter } from '../../../src/engines/engine-adapter.js';
import { DUCKDB_PROJECT_CONFIG, openProjectDuckDb, planBody } from '../../helpers/api-plans.js';
import { type EngineExecutor, startEngineExecutor } from '../../helpers/engine-executor.js';
import { evaluatedIntervals } from '../../helpers/evaluated-intervals.js';
import {
  callApi,
  createTestClient,
  startTestScheduler,
  type TestScheduler,
} from '../../helpers/scheduler-service.js';
import { stateBackendsUnderTest } from '../../helpers/state-backends.js';
import { writeProject } from '../../helpers/temp-project.js';

/**
 * A plan and a cadence run that want the same intervals at the same time: dev is promoted
 * without its backfill, then opted in to the cadence, which asks at once for its models, while
 * a second plan (which adds a model) backfills the same version. Each interval is written once: whichever holds the
 * version's lease evaluates, and the other finds the work done when it gets the lease.
 */

const DAYS = 24;

function files(schema: string, withExtra: boolean): Record<string, string> {
  return {
    'sluice.yaml': DUCKDB_PROJECT_CONFIG,
    'models/orders.sql': `MODEL (
  name ${schema}.orders,
  kind INCREMENTAL_BY_TIME_RANGE (time_column day, batch_size 1),
  start '2024-01-01',
  end '2024-01-${DAYS}',
  cron '@daily'
);

SELECT CAST(t.d AS DATE) AS day, 1 AS amount
FROM generate_series(TIMESTAMP '2024-01-01', TIMESTAMP '2024-01-31', INTERVAL '1 day') AS t(d)
WHERE CAST(t.d AS DATE) BETWEEN @start_ds AND @end_ds
`,
    ...(withExtra
      ? {
          'models/extra.sql': `MODEL (name ${schema}.extra, kind FULL, start '2024-01-01', end '2024-01-02');

SELECT 1 AS one
`,
        }
      : {}),
  };
}

for (const backend of stateBackendsUnderTest()) {
  describe.skipIf(backend.skipReason !== '')(
    `a plan beside a cadence run on ${backend.name}`,
    () => {
      const schema = `r${randomBytes(4).toString('hex')}_shop`;
      let root: string;
      let scheduler: TestScheduler;
      let engine: EngineAdapter;
      let executor: EngineExecutor;
      let token: string;

      const applyPlan = async (shouldSkipBackfill: boolean) => {
        const planned = await callApi(scheduler, '/v1/environments/dev/plans', {
          token,
          json: await planBody(root, 'dev', { shouldSkipBackfill }),
        });
        expect(planned.status).toBe(200);
        const started = await callApi(
          scheduler,
          `/v1/environments/dev/plans/${planned.json.plan.id}/apply`,
          { token, json: {} },
        );
        expect(started.status).toBe(200);
        return started.json.run_id as string;
      };
      const runsOf = async () =>
        (await callApi(scheduler, '/v1/runs?environment=dev', { token })).json.runs as {
          id: string;
          kind: string;
          status: string;
        }[];

      beforeAll(async () => {
        root = await writeProject(files(schema, false));
        scheduler = await startTestScheduler(backend, { cadenceMaxSleepMs: 50 });
        token = (await createTestClient(scheduler, 'deployer', ['deployer'])).token;
        engine = await openProjectDuckDb(root);
        executor = await startEngineExecutor(scheduler, engine);
      });

      afterAll(async () => {
        await executor?.stop();
        await engine?.close();
        await scheduler?.close();
      });

      it('writes each interval once when a plan and a cadence run overlap', async () => {
        const first = await applyPlan(true);
        await vi.waitFor(
          async () =>
            expect((await runsOf()).find((run) => run.id === first)?.status).toBe('succeeded'),
          { timeout: 20_000, interval: 50 },
        );
        // Opted in, dev's models enter the cadence, which asks for them at once; with no
        // Executor running, its run takes the version's lease and waits with its tasks queued.
        await executor.stop();
        const optIn = await callApi(scheduler, '/v1/environments/dev/cadence', {
          token,
          json: { enabled: true },
        });
        expect(optIn.status).toBe(200);
        await vi.waitFor(
          async () => expect((await runsOf()).some((run) => run.kind === 'cadence')).toBe(true),
          { timeout: 10_000, interval: 50 },
        );
        await writeProject(files(schema, true), root);
        const second = await applyPlan(false);
        await vi.waitFor(
          async () => {
            const page = await callApi(scheduler, `/v1/runs/${second}/events`, { token });
            const waits = page.json.events.filter(
              (entry: { event: { type: string; modelName?: string } }) =>
                entry.event.type === 'model_waiting' &&
                entry.event.modelName === `${schema}.orders`,
            );
            expect(waits.length).toBeGreaterThan(0);
          },
          { timeout: 10_000, interval: 50 },
        );
        executor = await startEngineExecutor(scheduler, engine);

        await vi.waitFor(
          async () => {
            const runs = await runsOf();
            expect(runs.find((run) => run.id === second)?.status).toBe('succeeded');
            const cadence = runs.filter((run) => run.kind === 'cadence');
            expect(cadence.every((run) => run.status === 'succeeded')).toBe(true);
          },
          { timeout: 60_000, interval: 100 },
        );
        const counts = await evaluatedIntervals(scheduler.store);
        const orders = [...counts].filter(([key]) => key.startsWith(`${schema}.orders/`));
        expect(orders).toHaveLength(DAYS);
        expect(orders.every(([, count]) => count === 1)).toBe(true);
        const rows = await engine.query(`SELECT COUNT(*) AS days FROM ${schema}__dev.orders`);
        expect(Number(rows.rows[0]?.days)).toBe(DAYS);
      });
    },
  );
}
