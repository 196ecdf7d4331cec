import { randomBytes } from 'node:crypto';
import { cp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createEngineAdapter } from '../../src/engines/create-engine-adapter.js';
import type { EngineAdapter } from '../../src/engines/engine-adapter.js';
import { loadProject } from '../../src/project/project-loader.js';
import { createClient } from '../../src/scheduler/auth/client-registry.js';
import { openStateStore } from '../../src/state/open-state-store.js';
import type { StateStore } from '../../src/state/state-store.js';
import { postgresTestSettings } from '../helpers/engines.js';
import { type ExecutorProcess, startExecutorProcess } from '../helpers/executor-process.js';
import { type SchedulerProcess, startSchedulerProcess } from '../helpers/scheduler-process.js';
import { callApi, requestToken } from '../helpers/scheduler-service.js';
import {
  stateBackendsUnderTest,
  type TestStateLocation,
  testKeyRing,
  testStateKey,
} from '../helpers/state-backends.js';
import { runCli } from '../helpers/temp-project.js';

/**
 * The example project (examples/shop) on PostgreSQL through a `sluice scheduler` process and two
 * `sluice executor` processes, one per pool (the compiled CLI: build first). The plan is applied
 * without its backfill, so the apply Executor creates the tables and promotes prod; the
 * Scheduler's cadence then finds every interval of prod missing and the run Executor evaluates
 * them. The project gets a database of its own, dropped afterwards.
 */

const EXAMPLE = fileURLToPath(new URL('../../examples/shop', import.meta.url));
const WAIT = { timeout: 90_000, interval: 500 };
const postgres = stateBackendsUnderTest().find((backend) => backend.name === 'postgres');

type Client = { readonly clientId: string; readonly secret: string };
type ListedRun = { id: string; kind: string; status: string; pool: string };

describe.skipIf(postgres === undefined || postgres.skipReason !== '')(
  'the example project through a Scheduler and two Executors on PostgreSQL',
  () => {
    const database = `sluice_example_${randomBytes(4).toString('hex')}`;
    let location: TestStateLocation | undefined;
    let store: StateStore;
    let server: EngineAdapter;
    let warehouse: EngineAdapter | undefined;
    let root: string;
    let scheduler: SchedulerProcess;
    let deployer: Client;
    let token: string;
    const executors = new Map<'apply' | 'run', ExecutorProcess>();

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
    const runs = async () =>
      (await callApi(scheduler, '/v1/runs?environment=prod', { token })).json.runs as ListedRun[];
    const completedBy = (pool: 'apply' | 'run') =>
      (executors.get(pool)?.logs ?? []).filter((line) => line.includes('"task completed"')).length;

    beforeAll(async () => {
      const settings = postgresTestSettings();
      server = await createEngineAdapter({
        gateway: 'server',
        type: 'postgres',
        settings,
        baseDir: EXAMPLE,
      });
      await server.execute(`CREATE DATABASE ${database}`);
      root = await copyExample({ ...settings, database });
      warehouse = await loadRawOrders(root, { ...settings, database });

      const key = testStateKey('k1');
      location = await postgres?.create();
      if (location?.location.backend !== 'postgres') throw new Error('no PostgreSQL location');
      store = await openStateStore({
        location: location.location,
        keyRing: testKeyRing(key),
        shouldMigrate: true,
      });
      const create = async (
        clientId: string,
        role: 'deployer' | `executor:${'apply' | 'run'}`,
      ) => ({
        clientId,
        secret: (await createClient(store, { clientId, roles: [role], actor: 'test' })).secret,
      });
      deployer = await create('deployer', 'deployer');
      const applier = await create('applier', 'executor:apply');
      const runner = await create('runner', 'executor:run');

      const stateUrl = new URL(location.location.url);
      stateUrl.searchParams.set('schema', location.location.schema);
      scheduler = await startSchedulerProcess({
        projectDir: root,
        stateUrl: stateUrl.href,
        stateKeys: `${key.id}:${key.secret.toString('base64')}`,
        extraArgs: ['--cadence-max-sleep', '1 second', '--poll-wait', '2s'],
      });
      token = await requestToken(scheduler.url, deployer.clientId, deployer.secret, undefined);

      for (const [pool, client] of [
        ['apply', applier],
        ['run', runner],
      ] as const) {
        const executor = startExecutorProcess({
          projectDir: root,
          url: scheduler.url,
          ...client,
          args: ['--pool', pool, '--id', `example-${pool}`, '--log-level', 'debug'],
        });
        executors.set(pool, executor);
        await executor.waitForLog('started');
      }
    }, 60_000);

    afterAll(async () => {
      for (const executor of executors.values()) await executor.stop('SIGKILL');
      await scheduler?.kill('SIGKILL');
      await store?.close();
      await location?.cleanup();
      await warehouse?.close();
      await server?.execute(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      await server?.close();
      if (root !== undefined) await rm(root, { recursive: true, force: true });
    }, 60_000);

    it('applies on the apply Executor and runs prod on cadence on the run Executor', async () => {
      const applied = await remote('plan', '--auto-apply', '--skip-backfill');
      expect(applied.code).toBe(0);
      expect(applied.stdout).toContain("Applied: environment 'prod'");
      const appliedTasks = completedBy('apply');
      expect(appliedTasks).toBeGreaterThan(0);

      await vi.waitFor(async () => {
        const cadence = (await runs()).filter((run) => run.kind === 'cadence');
        expect(cadence.map((run) => run.status)).toContain('succeeded');
        expect(cadence.every((run) => run.pool === 'run')).toBe(true);
      }, WAIT);

      expect(completedBy('run')).toBeGreaterThan(0);
      const counted = await warehouse?.query(
        `SELECT (SELECT SUM(orders) FROM shop.daily_revenue) AS evaluated,
           (SELECT COUNT(*) FROM shop.orders) AS direct`,
      );
      const [row] = counted?.rows ?? [];
      expect(Number(row?.evaluated)).toBeGreaterThan(0);
      expect(Number(row?.evaluated)).toBe(Number(row?.direct));
    });

    it('stops both Executors with exit code 0 on SIGTERM', async () => {
      for (const [pool, executor] of executors) {
        expect(await executor.stop('SIGTERM'), pool).toBe(0);
      }
      executors.clear();
    });
  },
);

/** Copies the example into a temporary folder with PostgreSQL as its default gateway. */
async function copyExample(settings: Record<string, string | number>): Promise<string> {
  const root = join(
    await import('node:os').then((os) => os.tmpdir()),
    `sluice-example-${randomBytes(4).toString('hex')}`,
  );
  await cp(EXAMPLE, root, {
    recursive: true,
    filter: (source) => !source.includes(`${EXAMPLE}/.sluice`),
  });
  const config = (await readFile(join(root, 'sluice.yaml'), 'utf8'))
    .replace('default_gateway: local', 'default_gateway: warehouse')
    .replace(/host: 127\.0\.0\.1/, `host: ${settings.host}`)
    .replace(/port: 5432/, `port: ${settings.port}`)
    .replace(/database: test/, `database: ${settings.database}`)
    .replace(/user: postgres/, `user: ${settings.user}`);
  await writeFile(join(root, 'sluice.yaml'), config);
  return root;
}

/** Writes the shop application's `raw.orders` from the example's CSV into the database. */
async function loadRawOrders(
  root: string,
  settings: Record<string, string | number>,
): Promise<EngineAdapter> {
  const project = await loadProject(root);
  const columns = project.models.get('raw.orders')?.columns ?? [];
  const adapter = await createEngineAdapter({
    gateway: 'warehouse',
    type: 'postgres',
    settings,
    baseDir: root,
  });
  const table = { schema: 'raw', name: 'orders' };
  const definition = columns
    .map((column) => `${adapter.quoteIdentifier(column.name)} ${column.type}`)
    .join(', ');
  await adapter.createSchema('raw');
  await adapter.execute(`CREATE TABLE ${adapter.quoteTable(table)} (${definition})`);
  await adapter.loadCsvFile(
    table,
    join(root, 'data', 'raw_orders.csv'),
    columns.map((column) => column.name),
  );
  return adapter;
}
