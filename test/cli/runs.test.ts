import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { EngineAdapter } from '../../src/engines/engine-adapter.js';
import { formatKeyRing } from '../../src/state/crypto/key-ring.js';
import { readRun } from '../../src/state/runs/run-store.js';
import { DUCKDB_PROJECT_CONFIG, openProjectDuckDb, planBody } from '../helpers/api-plans.js';
import { dailyOrdersModel } from '../helpers/daily-orders.js';
import { type EngineExecutor, startEngineExecutor } from '../helpers/engine-executor.js';
import {
  callApi,
  createTestClient,
  startTestScheduler,
  type TestClient,
  type TestScheduler,
} from '../helpers/scheduler-service.js';
import { stateBackendsUnderTest } from '../helpers/state-backends.js';
import { stateUrlOf } from '../helpers/state-url.js';
import { type CliResult, runCli, writeProject } from '../helpers/temp-project.js';

/**
 * `sluice runs`, `runs show`, `runs cancel`, `runs rerun` and `sluice restate` against a real
 * Scheduler on loopback, with an Executor pulling tasks over HTTP and running them on DuckDB.
 * Listing and showing print the same through the API (SLUICE_URL) as on the state store
 * directly; the others need the Scheduler and say so without SLUICE_URL.
 */

function files(schema: string, totalsQuery: string) {
  return {
    'sluice.yaml': DUCKDB_PROJECT_CONFIG,
    'models/orders.sql': dailyOrdersModel({ schema, batchSize: 2, end: '2024-01-04' }),
    'models/totals.sql': `MODEL (name ${schema}.totals, kind FULL, start '2024-01-01', end '2024-01-04');

${totalsQuery}
`,
  };
}

/** Output with what differs between runs taken out: durations, run ids, times. */
function normalise(text: string): string {
  return text
    .replace(/in \d+\.\d s/g, 'in N s')
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/g, 'TIME')
    .replace(/\b[0-9A-Z]{26}(-\w+)?\b/g, (_, task: string | undefined) =>
      task === undefined ? 'ID' : 'ID-N',
    );
}

for (const backend of stateBackendsUnderTest()) {
  describe.skipIf(backend.skipReason !== '')(`sluice runs and restate on ${backend.name}`, () => {
    const schema = `r${randomBytes(4).toString('hex')}_shop`;
    let root: string;
    let scheduler: TestScheduler;
    let engine: EngineAdapter;
    let executor: EngineExecutor | undefined;
    let deployer: TestClient;

    const remote = (...args: string[]): Promise<CliResult> => {
      vi.stubEnv('SLUICE_URL', scheduler.url);
      vi.stubEnv('SLUICE_CLIENT_ID', deployer.clientId);
      vi.stubEnv('SLUICE_CLIENT_SECRET', deployer.secret);
      return runCli('--project', root, ...args);
    };
    const withoutScheduler = (...args: string[]): Promise<CliResult> => {
      vi.stubEnv('SLUICE_URL', '');
      vi.stubEnv('SLUICE_STATE_KEYS', formatKeyRing(scheduler.store.keyRing));
      return runCli('--project', root, ...args);
    };
    const onStore = (...args: string[]) =>
      withoutScheduler(...args, '--state', stateUrlOf(scheduler.store.location));
    /** Runs the command both ways, checks that both print the same, and returns the output. */
    const both = async (...args: string[]): Promise<CliResult> => {
      const throughApi = await remote(...args);
      vi.unstubAllEnvs();
      expect(await onStore(...args)).toEqual(throughApi);
      return throughApi;
    };
    const totals = async () => (await engine.query(`SELECT total FROM ${schema}.totals`)).rows;
    const orderDays = async () =>
      (await engine.query(`SELECT CAST(COUNT(*) AS INTEGER) AS days FROM ${schema}.orders`)).rows;
    const newestRun = async (status: string) =>
      JSON.parse((await remote('runs', '--status', status, '--format', 'json')).stdout).runs[0];

    beforeAll(async () => {
      root = await writeProject(files(schema, `SELECT SUM(amount) AS total FROM ${schema}.orders`));
      scheduler = await startTestScheduler(backend);
      deployer = await createTestClient(scheduler, 'deployer', ['deployer']);
      engine = await openProjectDuckDb(root);
      executor = await startEngineExecutor(scheduler, engine);
    });

    afterEach(() => vi.unstubAllEnvs());

    afterAll(async () => {
      await executor?.stop();
      await engine?.close();
      await scheduler?.close();
    });

    it('lists the runs the same through the Scheduler and on its state store', async () => {
      expect(await both('runs')).toEqual({
        code: 0,
        stdout: 'No runs are recorded yet.\n',
        stderr: '',
      });
      expect((await remote('plan', '--auto-apply')).code).toBe(0);

      const listed = await both('runs');

      expect(listed.code).toBe(0);
      const lines = normalise(listed.stdout).trimEnd().split('\n');
      expect(lines).toHaveLength(2);
      expect(lines[0]).toMatch(/^RUN +KIND +ENVIRONMENT +STATUS +STARTED +REQUESTED BY$/);
      expect(lines[1]).toMatch(/^ID +apply +prod +succeeded +TIME +deployer$/);
      expect((await both('runs', '--env', 'dev')).stdout).toBe('No recorded run matches.\n');
    });

    it('shows a run with its results and tasks the same both ways', async () => {
      const run = await newestRun('succeeded');

      const shown = await both('runs', 'show', run.id);

      expect(shown.code).toBe(0);
      const text = normalise(shown.stdout);
      expect(text).toContain(
        'Run ID: apply of prod, succeeded\n  requested by deployer, started TIME, ended TIME\n' +
          '  plan ID\n' +
          "  promoted: 'prod' is at revision 1\n" +
          'Run of prod finished in N s: 2 evaluated, 0 up to date, 0 failed, 0 skipped\n',
      );
      expect(text).toMatch(/^TASK +KIND +MODEL +INTERVAL +STATUS +ATTEMPT$/m);
      expect(text).toMatch(
        new RegExp(
          `^ID-N +evaluate +${schema}\\.orders +\\[2024-01-03, 2024-01-05\\) +succeeded +1/\\d+$`,
          'm',
        ),
      );
      expect(text).toMatch(/^ID-N +promote +- +- +succeeded +1\/\d+$/m);

      const json = JSON.parse((await both('runs', 'show', run.id, '--format', 'json')).stdout);
      expect(json.run).toMatchObject({ id: run.id, kind: 'apply', status: 'succeeded' });
      expect(json.tasks.length).toBeGreaterThan(3);
    });

    it('refuses a bad status and an unknown run alike both ways', async () => {
      const status = await both('runs', '--status', 'suceeded');
      expect(status.code).toBe(1);
      expect(status.stderr).toContain("Unknown run status 'suceeded'");
      expect(status.stderr).toContain("Did you mean 'succeeded'");

      const missing = await both('runs', 'show', 'no-such-run');
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain("There is no run 'no-such-run'");
    });

    it('cancels a run whose tasks wait for an Executor', async () => {
      await executor?.stop();
      executor = undefined;
      await writeProject(
        files(schema, `SELECT SUM(amount) * 10 AS total FROM ${schema}.orders`),
        root,
      );
      const planned = await callApi(scheduler, '/v1/environments/prod/plans', {
        token: deployer.token,
        json: await planBody(root, 'prod'),
      });
      const started = await callApi(
        scheduler,
        `/v1/environments/prod/plans/${planned.json.plan.id}/apply`,
        { token: deployer.token, json: {} },
      );
      const runId: string = started.json.run_id;
      await vi.waitFor(async () => {
        const tasks = await callApi(scheduler, `/v1/runs/${runId}/tasks`, {
          token: deployer.token,
        });
        expect(tasks.json.tasks.length).toBeGreaterThan(0);
      });

      const waiting = await both('runs', 'show', runId);
      expect(waiting.stdout).toContain(`Run ${runId}: apply of prod, running\n`);
      expect(waiting.stdout).toContain(`Still running; 'sluice logs --run ${runId}'`);

      const cancelled = await remote('runs', 'cancel', runId);

      expect(cancelled.code).toBe(0);
      expect(cancelled.stdout).toContain(`Asked run ${runId} of 'prod' to stop`);
      await vi.waitFor(async () => {
        expect((await readRun(scheduler.store, runId)).status).toBe('cancelled');
      });
      const shown = await both('runs', 'show', runId);
      expect(shown.stdout).toContain(`Run ${runId}: apply of prod, cancelled`);
      expect(shown.stdout).toMatch(/ cancelled +0\/\d+$/m);
      const again = await remote('runs', 'cancel', runId);
      expect(again.stdout).toBe(`Run ${runId} of 'prod' had already ended (cancelled).\n`);
    });

    it('runs a failed apply again with --wait, failing until its cause is fixed', async () => {
      executor = await startEngineExecutor(scheduler, engine);
      const gated = `SELECT SUM(amount) AS total FROM ${schema}.orders, ${schema}_raw.gate`;
      await writeProject(files(schema, gated), root);
      expect((await remote('plan', '--auto-apply')).code).toBe(1);
      const failed = await newestRun('failed');

      const stillFailing = await remote('runs', 'rerun', failed.id, '--wait');

      expect(stillFailing.code).toBe(1);
      expect(stillFailing.stdout).toContain('1 failed, 0 skipped');
      expect(stillFailing.stderr).toContain(`1 of 2 models failed ('${schema}.totals')`);
      const retried = /Started run (\S+) of 'prod'/.exec(stillFailing.stdout)?.[1] ?? '';

      await engine.execute(`CREATE SCHEMA ${schema}_raw`);
      await engine.execute(`CREATE TABLE ${schema}_raw.gate AS SELECT 1 AS open`);
      const fixed = await remote('runs', 'rerun', retried, '--wait');

      expect(fixed.code).toBe(0);
      expect(normalise(fixed.stdout)).toBe(
        `Started run ID of 'prod' to run again what run ID failed.\n` +
          'Run of prod finished in N s: 1 evaluated, 1 up to date, 0 failed, 0 skipped\n',
      );
      expect(await totals()).toEqual([{ total: 8 }]);
    });

    it('restates a model over a range through the Scheduler and follows it', async () => {
      const physical = await engine.query(
        'SELECT table_schema, table_name FROM information_schema.tables ' +
          `WHERE table_schema = 'sluice__${schema}' AND table_name LIKE '${schema}__orders__%'`,
      );
      expect(physical.rows).toHaveLength(1);
      const { table_schema, table_name } = physical.rows[0] as Record<string, string>;
      await engine.execute(
        `DELETE FROM "${table_schema}"."${table_name}" WHERE day = DATE '2024-01-03'`,
      );
      expect(await orderDays()).toEqual([{ days: 3 }]);

      const restated = await remote(
        'restate',
        'prod',
        '--model',
        `${schema}.orders`,
        '--start',
        '2024-01-03',
        '--end',
        '2024-01-03',
      );

      expect(restated.code).toBe(0);
      expect(restated.stdout).toBe(
        `Restated '${schema}.orders' and their downstream models in 'prod' over ` +
          '[2024-01-03, 2024-01-04): the environment is at revision 3.\n',
      );
      expect(restated.stderr).toMatch(new RegExp(`ok ${schema}\\.orders \\[2024-01-03, `));
      expect(await orderDays()).toEqual([{ days: 4 }]);
      expect(await totals()).toEqual([{ total: 8 }]);
    });

    it('fails a restatement whose downstream model fails, naming it, and refuses bad input', async () => {
      const restate = (...args: string[]) =>
        remote('restate', 'prod', '--start', '2024-01-01', '--end', '2024-01-02', ...args);
      await engine.execute(`DROP TABLE ${schema}_raw.gate`);

      const failed = await restate('--model', `${schema}.orders`);

      expect(failed.code).toBe(1);
      expect(failed.stderr).toContain(
        `error: The restatement was not applied: 1 model failed ('${schema}.totals': `,
      );
      expect(failed.stderr).toContain("Environment 'prod' is unchanged");
      const unknown = await restate('--model', `${schema}.nothing`);
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toContain(`${schema}.nothing`);
      const withoutModel = await restate();
      expect(withoutModel.stderr).toContain('Name the models to restate with --model');
    });

    it('says to set SLUICE_URL for cancel, rerun and restate without a Scheduler', async () => {
      const calls = [
        ['runs', 'cancel', 'some-run'],
        ['runs', 'rerun', 'some-run', '--wait'],
        [
          'restate',
          'prod',
          '--model',
          `${schema}.orders`,
          '--start',
          '2024-01-01',
          '--end',
          '2024-01-02',
        ],
      ];
      for (const args of calls) {
        const result = await withoutScheduler(...args);
        expect(result.code, args.join(' ')).toBe(1);
        expect(result.stdout).toBe('');
        expect(result.stderr.trimEnd().split('\n'), args.join(' ')).toHaveLength(1);
        expect(result.stderr).toContain(
          'needs the Scheduler, which coordinates runs: set SLUICE_URL',
        );
      }
    });
  });
}
