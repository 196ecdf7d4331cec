import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { EngineAdapter } from '../../src/engines/engine-adapter.js';
import { DUCKDB_PROJECT_CONFIG, openProjectDuckDb } from '../helpers/api-plans.js';
import { dailyOrdersModel } from '../helpers/daily-orders.js';
import { type EngineExecutor, startEngineExecutor } from '../helpers/engine-executor.js';
import {
  createTestClient,
  startTestScheduler,
  type TestScheduler,
} from '../helpers/scheduler-service.js';
import { stateBackendsUnderTest } from '../helpers/state-backends.js';
import { type CliResult, runCli, writeProject } from '../helpers/temp-project.js';

/**
 * `sluice plan`, `apply` and `run` through a Scheduler (SLUICE_URL set, an Executor pulling the
 * tasks over HTTP and running them on DuckDB) print what they print in the local mode, and leave
 * the same tables behind. Two copies of one project, each with its own warehouse: one planned
 * and run in process, one through the Scheduler.
 */

const modelFiles = (schema: string, multiplier: number) => ({
  'sluice.yaml': DUCKDB_PROJECT_CONFIG,
  'models/orders.sql': dailyOrdersModel({ schema, batchSize: 4, end: '2024-01-08' }),
  'models/totals.sql': `MODEL (name ${schema}.totals, kind FULL, start '2024-01-01', end '2024-01-08');

SELECT SUM(amount) * ${multiplier} AS total FROM ${schema}.orders
`,
});

/** Output with what differs between any two runs taken out: durations, ids. */
function normalise(result: CliResult): string {
  return `${result.code}\n${result.stdout}\n${result.stderr}`
    .replace(/\(\d+\.\d s/g, '(N s')
    .replace(/in \d+\.\d s/g, 'in N s')
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/g, 'TIME')
    .replace(/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/g, 'ID')
    .replace(/\b[0-9A-Z]{26}\b/g, 'ID')
    .replace(/\b\d{13}-[0-9a-f]+\b/g, 'ID');
}

for (const backend of stateBackendsUnderTest()) {
  describe.skipIf(backend.skipReason !== '')(
    `the CLI through a Scheduler on ${backend.name}`,
    () => {
      const schema = `r${randomBytes(4).toString('hex')}_shop`;
      let localRoot: string;
      let remoteRoot: string;
      let scheduler: TestScheduler;
      let remoteEngine: EngineAdapter;
      let executor: EngineExecutor;
      let deployer: { clientId: string; secret: string };

      const local = (...args: string[]) => runCli('--project', localRoot, ...args);
      const remote = async (...args: string[]) => {
        vi.stubEnv('SLUICE_URL', scheduler.url);
        vi.stubEnv('SLUICE_CLIENT_ID', deployer.clientId);
        vi.stubEnv('SLUICE_CLIENT_SECRET', deployer.secret);
        try {
          return await runCli('--project', remoteRoot, ...args);
        } finally {
          vi.unstubAllEnvs();
        }
      };
      const totals = async (root: string, adapter?: EngineAdapter) => {
        const engine = adapter ?? (await openProjectDuckDb(root));
        try {
          return (await engine.query(`SELECT total FROM ${schema}.totals`)).rows;
        } finally {
          if (adapter === undefined) await engine.close();
        }
      };

      beforeAll(async () => {
        localRoot = await writeProject(modelFiles(schema, 1));
        remoteRoot = await writeProject(modelFiles(schema, 1));
        scheduler = await startTestScheduler(backend);
        const client = await createTestClient(scheduler, 'deployer', ['deployer']);
        deployer = { clientId: client.clientId, secret: client.secret };
        remoteEngine = await openProjectDuckDb(remoteRoot);
        executor = await startEngineExecutor(scheduler, remoteEngine);
      });

      afterAll(async () => {
        await executor?.stop();
        await remoteEngine?.close();
        await scheduler?.close();
      });

      it('plans and applies a new project with the same output and the same tables', async () => {
        const here = await local('plan', '--auto-apply');
        const there = await remote('plan', '--auto-apply');

        expect(there.code).toBe(0);
        expect(normalise(there)).toBe(normalise(here));
        expect(await totals(remoteRoot, remoteEngine)).toEqual(await totals(localRoot));
      });

      it('says there is nothing to do the same way once applied', async () => {
        const here = await local('plan');
        const there = await remote('plan');

        expect(there.stdout).toContain('No changes');
        expect(normalise(there)).toBe(normalise(here));
      });

      it('runs an environment with the same output', async () => {
        const here = await local('run');
        const there = await remote('run');

        expect(there.code).toBe(0);
        expect(normalise(there)).toBe(normalise(here));
      });

      it('plans a change without applying it, then applies it by id, with the same output', async () => {
        for (const root of [localRoot, remoteRoot]) {
          await writeProject(modelFiles(schema, 10), root);
        }
        const herePlan = await local('plan', 'dev');
        const therePlan = await remote('plan', 'dev');
        expect(therePlan.code).toBe(3);
        expect(normalise(therePlan)).toBe(normalise(herePlan));

        const planIdOf = (result: CliResult) =>
          /sluice apply (\S+)'/.exec(result.stdout)?.[1] ?? '';
        const here = await local('apply', planIdOf(herePlan));
        const there = await remote('apply', planIdOf(therePlan));
        expect(there.code).toBe(0);
        expect(normalise(there)).toBe(normalise(here));
      });

      it('lists environments with the same output', async () => {
        const here = await local('environments');
        const there = await remote('environments');

        expect(there.code).toBe(0);
        expect(there.stdout).toContain('dev');
        expect(normalise(there)).toBe(normalise(here));
      });
    },
  );
}
