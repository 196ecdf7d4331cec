import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { expect, vi } from 'vitest';
import { createEngineAdapter } from '../../../src/engines/create-engine-adapter.js';
import type { EngineAdapter } from '../../../src/engines/engine-adapter.js';
import { planBody } from '../../helpers/api-plans.js';
import { dailyOrdersModel } from '../../helpers/daily-orders.js';
import { postgresProjectConfig, postgresTestSettings } from '../../helpers/engines.js';
import type { ExecutorProcess } from '../../helpers/executor-process.js';
import { callApi } from '../../helpers/scheduler-service.js';

/**
 * What the Executor fault tests share: a PostgreSQL project whose daily model is slowed down with
 * `pg_sleep`, plans applied through the Scheduler's API, waits on a run's state, and the clean-up
 * of the schemas a test wrote.
 */

/** Generous waits: the processes share two cores with the rest of the suite. */
export const FAULT_WAIT = { timeout: 60_000, interval: 200 } as const;

/** Scheduler timings short enough for a lease to expire within a test. */
export const SHORT_TIMINGS = { leaseSec: 5, heartbeatIntervalSec: 1, pollWaitSec: 2 } as const;

/** The same timings as `sluice scheduler` options. */
export const SHORT_TIMING_ARGS = [
  '--lease',
  '5 seconds',
  '--heartbeat-interval',
  '1 second',
  '--poll-wait',
  '2 seconds',
] as const;

/** A schema name of its own for one test file. */
export function faultSchema(prefix: string): string {
  return `${prefix}${randomBytes(4).toString('hex')}_shop`;
}

/** How the model is shaped: how many days from 2024-01-01, per task, and its slowing clause. */
export type SlowModel = {
  readonly schema: string;
  readonly days: number;
  readonly batchSize: number;
  /**
   * A condition in the query's WHERE that sleeps once per query (an uncorrelated subquery), such
   * as `(SELECT pg_sleep(0.3)) IS NOT NULL`; a bare `pg_sleep` there would sleep once per row.
   */
  readonly pause: string;
};

/** sluice.yaml on the test PostgreSQL and `SCHEMA.orders`, one row per day. */
export function slowProjectFiles(model: SlowModel): Record<string, string> {
  const end = `2024-01-${String(model.days).padStart(2, '0')}`;
  return {
    'sluice.yaml': postgresProjectConfig('faults'),
    'models/orders.sql': dailyOrdersModel({
      schema: model.schema,
      batchSize: model.batchSize,
      end,
      amount: 'CAST(EXTRACT(DAY FROM t.d) * 10 AS INTEGER)',
      alsoWhere: model.pause,
    }),
  };
}

/** The rows an undisturbed run of the model writes, computed directly: day and amount. */
export function expectedRows(days: number): { day: string; amount: number }[] {
  return Array.from({ length: days }, (_, index) => ({
    day: `2024-01-${String(index + 1).padStart(2, '0')}`,
    amount: (index + 1) * 10,
  }));
}

/** The model's table (or `table`, given with a dot), row for row, in day order. */
export async function tableRows(engine: EngineAdapter, schemaOrTable: string) {
  const table = schemaOrTable.includes('.') ? schemaOrTable : `${schemaOrTable}.orders`;
  const result = await engine.query(
    `SELECT to_char(day, 'YYYY-MM-DD') AS day, amount FROM ${table} ORDER BY day, amount`,
  );
  return result.rows.map((row) => ({ day: String(row.day), amount: Number(row.amount) }));
}

/** An adapter on the test PostgreSQL, for reading what the Executors wrote. */
export function openTestEngine(root: string): Promise<EngineAdapter> {
  return createEngineAdapter({
    gateway: 'warehouse',
    type: 'postgres',
    settings: postgresTestSettings(),
    baseDir: root,
  });
}

/** Drops every schema whose name contains `schema` (the model's and its environments'). */
export async function dropSchemas(engine: EngineAdapter | undefined, schema: string) {
  if (engine === undefined) return;
  const found = await engine.query(
    'SELECT nspname AS name FROM pg_namespace WHERE nspname LIKE $1',
    [`%${schema}%`],
  );
  for (const row of found.rows) {
    await engine.execute(`DROP SCHEMA ${engine.quoteIdentifier(String(row.name))} CASCADE`);
  }
  await engine.close();
}

/** Plans the project at `root` for prod through the API and applies it; the run's id. */
export async function applyThroughApi(url: string, token: string, root: string): Promise<string> {
  const planned = await callApi({ url }, '/v1/environments/prod/plans', {
    token,
    json: await planBody(root, 'prod'),
  });
  expect(planned.status).toBe(200);
  const applied = await callApi(
    { url },
    `/v1/environments/prod/plans/${planned.json.plan.id}/apply`,
    { token, json: {} },
  );
  expect(applied.status).toBe(200);
  return String(applied.json.run_id);
}

/** One task of a run as GET /v1/runs/{id}/tasks lists it. */
export type ListedTask = {
  readonly id: string;
  readonly kind: string;
  readonly status: string;
  readonly attempt: number;
};

/** Every task of the run (one page is enough for these small runs). */
export async function runTasks(url: string, token: string, runId: string): Promise<ListedTask[]> {
  const answer = await callApi({ url }, `/v1/runs/${runId}/tasks?limit=500`, { token });
  expect(answer.status).toBe(200);
  return answer.json.tasks as ListedTask[];
}

/** Waits until the run's status is `succeeded`; fails at once if it ended otherwise. */
export async function waitForRunSucceeded(url: string, token: string, runId: string) {
  await vi.waitFor(async () => {
    const answer = await callApi({ url }, `/v1/runs/${runId}`, { token });
    const status = String(answer.json?.run?.status);
    if (status === 'failed' || status === 'cancelled' || status === 'abandoned') {
      throw new Error(`run '${runId}' ended ${status}; it should have succeeded`);
    }
    expect(status).toBe('succeeded');
  }, FAULT_WAIT);
}

/** The parsed JSON log lines of an Executor whose `msg` is `message`. */
export function logLines(executor: ExecutorProcess, message: string): Record<string, unknown>[] {
  return executor.logs
    .filter((text) => text.startsWith('{'))
    .map((text) => JSON.parse(text) as Record<string, unknown>)
    .filter((line) => line.msg === message);
}

/** A TCP port on 127.0.0.1 that was free a moment ago, for a Scheduler restarted in place. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address !== null && typeof address === 'object') resolve(address.port);
        else reject(new Error('no port was bound'));
      });
    });
  });
}
