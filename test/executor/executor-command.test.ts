import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createEngineAdapter } from '../../src/engines/create-engine-adapter.js';
import type { EngineAdapter } from '../../src/engines/engine-adapter.js';
import { dailyOrdersModel } from '../helpers/daily-orders.js';
import { postgresProjectConfig, postgresTestSettings } from '../helpers/engines.js';
import {
  checkExecutorProcess,
  type ExecutorProcess,
  startExecutorProcess,
} from '../helpers/executor-process.js';
import {
  callApi,
  createTestClient,
  startTestScheduler,
  type TestClient,
  type TestScheduler,
} from '../helpers/scheduler-service.js';
import { stateBackendsUnderTest } from '../helpers/state-backends.js';
import { runCli, writeProject } from '../helpers/temp-project.js';
import { listeningSockets, socketInodes } from './listening-sockets.js';

/**
 * `sluice executor` as its own process on loopback, with PostgreSQL as the engine: a plan applied
 * through the Scheduler is run by it, `--check` tells a working set-up from a broken one, it
 * holds no socket that accepts traffic, and SIGTERM ends it with exit code 0.
 */

const sqlite = stateBackendsUnderTest().find((backend) => backend.name === 'sqlite');
const postgresSkip = stateBackendsUnderTest().find((backend) => backend.name === 'postgres');

function projectFiles(schema: string) {
  return {
    'sluice.yaml': postgresProjectConfig('exec'),
    'models/orders.sql': dailyOrdersModel({ schema, batchSize: 2, end: '2024-01-07' }),
  };
}

describe.skipIf(sqlite === undefined || postgresSkip?.skipReason !== '')(
  'the Executor command on PostgreSQL',
  () => {
    const schema = `x${randomBytes(4).toString('hex')}_shop`;
    let root: string;
    let scheduler: TestScheduler;
    let runner: TestClient;
    let deployer: TestClient;
    let engine: EngineAdapter;
    let executor: ExecutorProcess | undefined;

    const asExecutor = (args: string[] = [], env: Record<string, string> = {}) => ({
      projectDir: root,
      url: scheduler.url,
      clientId: runner.clientId,
      secret: runner.secret,
      args,
      env,
    });
    const remote = async (...args: string[]) => {
      vi.stubEnv('SLUICE_URL', scheduler.url);
      vi.stubEnv('SLUICE_CLIENT_ID', deployer.clientId);
      vi.stubEnv('SLUICE_CLIENT_SECRET', deployer.secret);
      try {
        return await runCli('--project', root, ...args);
      } finally {
        vi.unstubAllEnvs();
      }
    };

    beforeAll(async () => {
      if (sqlite === undefined) return;
      root = await writeProject(projectFiles(schema));
      scheduler = await startTestScheduler(sqlite);
      runner = await createTestClient(scheduler, 'runner', ['executor:run', 'executor:apply']);
      deployer = await createTestClient(scheduler, 'deployer', ['deployer']);
      engine = await createEngineAdapter({
        gateway: 'warehouse',
        type: 'postgres',
        settings: postgresTestSettings(),
        baseDir: root,
      });
    });

    afterAll(async () => {
      await executor?.stop('SIGKILL');
      const schemas = await engine?.query(
        'SELECT nspname AS name FROM pg_namespace WHERE nspname LIKE $1',
        [`%${schema}%`],
      );
      for (const row of schemas?.rows ?? []) {
        await engine.execute(`DROP SCHEMA ${engine.quoteIdentifier(String(row.name))} CASCADE`);
      }
      await engine?.close();
      await scheduler?.close();
    });

    it('passes its check when it reaches the Scheduler and the engine', async () => {
      const checked = await checkExecutorProcess(asExecutor());

      expect(checked.stderr).toBe('');
      expect(checked.code).toBe(0);
      expect(checked.stdout).toContain(`scheduler: ${scheduler.url} answers`);
      expect(checked.stdout).toContain("engine: gateway 'warehouse' (postgres) answers");
    });

    it('fails its check with a wrong secret, without printing the secret', async () => {
      const wrong = `wrong-${randomBytes(8).toString('hex')}`;
      const checked = await checkExecutorProcess({ ...asExecutor(), secret: wrong });

      expect(checked.code).not.toBe(0);
      expect(checked.stderr).toContain('runner');
      expect(`${checked.stdout}${checked.stderr}`).not.toContain(wrong);
    });

    it('fails its check when its gateway engine cannot be reached', async () => {
      const unreachable = { SLUICE__GATEWAYS__WAREHOUSE__CONNECTION__PORT: '1' };
      const checked = await checkExecutorProcess(asExecutor([], unreachable));

      expect(checked.code).not.toBe(0);
      expect(checked.stderr).toContain('warehouse');
    });

    it('runs the tasks of a plan applied through the Scheduler', async () => {
      executor = startExecutorProcess(asExecutor(['--slots', '2', '--id', 'exec-1']));
      await executor.waitForLog('started');

      const applied = await remote('plan', '--auto-apply');

      expect(applied.code).toBe(0);
      expect(applied.stdout).toContain('Applied');
      const rows = await engine.query(
        `SELECT COUNT(*) AS n, COUNT(DISTINCT day) AS days FROM ${schema}.orders`,
      );
      expect(rows.rows).toEqual([{ n: 7, days: 7 }]);
    });

    it("reports the engine's transaction id with each task it completed", async () => {
      const token = await scheduler.tokenFor(deployer.clientId, deployer.secret);
      const read = async (path: string) => (await callApi(scheduler, path, { token })).json;
      const [run] = (await read('/v1/runs?environment=prod')).runs;
      const tasks = (await read(`/v1/runs/${run.id}/tasks`)).tasks;
      const evaluation = tasks.find((task: { kind: string }) => task.kind === 'evaluate');

      const detail = (await read(`/v1/tasks/${evaluation.id}`)).task;

      expect(detail.last_outcome.status).toBe('succeeded');
      expect(detail.last_outcome.engine_query_ids).toEqual([expect.stringMatching(/^\d+\/\d+$/)]);
    });

    it('holds no socket that listens or is bound for incoming traffic', async () => {
      if (executor === undefined) throw new Error('the Executor of the previous test is gone');
      const held = await socketInodes(executor.pid);

      expect(held.inodes.length).toBeGreaterThan(0);
      expect(await listeningSockets(executor.pid)).toEqual([]);
    });

    it('exits 0 on SIGTERM once its tasks are done', async () => {
      if (executor === undefined) throw new Error('the Executor of the previous test is gone');
      const code = await executor.stop('SIGTERM');
      executor = undefined;

      expect(code).toBe(0);
    });
  },
);
