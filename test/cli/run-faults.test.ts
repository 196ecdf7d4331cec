import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { countRows, type RunProject, writeRunProject } from '../helpers/run-project.js';
import { runCli } from '../helpers/temp-project.js';

/**
 * Runs killed midway and runs that overlap, with `sluice run` in child processes (the built CLI,
 * as `npm test` builds it first).
 */

const SLUICE = fileURLToPath(new URL('../../bin/sluice.js', import.meta.url));

const ORDERS = `MODEL (
  name {s}.orders,
  kind INCREMENTAL_BY_TIME_RANGE (time_column day, batch_size 3),
  start '2024-01-01',
  end '2024-01-10'
);

SELECT CAST(t.d AS DATE) AS day
FROM generate_series(TIMESTAMP '2024-01-01', TIMESTAMP '2024-01-31', INTERVAL '1 day') AS t(d)
WHERE CAST(t.d AS DATE) BETWEEN @start_ds AND @end_ds
`;

const SLOW = `MODEL (
  name {s}.slow,
  kind INCREMENTAL_BY_TIME_RANGE (time_column day, batch_size 1),
  start '2024-01-01',
  end '2024-01-06'
);

SELECT CAST(t.d AS DATE) AS day
FROM generate_series(TIMESTAMP '2024-01-01', TIMESTAMP '2024-01-31', INTERVAL '1 day') AS t(d)
CROSS JOIN (SELECT pg_sleep(0.3)) AS pause
WHERE CAST(t.d AS DATE) BETWEEN @start_ds AND @end_ds;

INSERT INTO {s}_log.evaluations VALUES (CAST(@start_ds AS DATE), pg_backend_pid())
`;

type ChildResult = {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
};

function runChild(
  root: string,
  env: Record<string, string>,
  ...args: string[]
): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SLUICE, '--project', root, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** Promotes prod with empty tables, so that the runs under test do all the evaluating. */
async function createEnvironment(project: RunProject): Promise<void> {
  const result = await runCli('--project', project.root, 'plan', '--auto-apply', '--skip-backfill');
  expect(result.code).toBe(0);
}

async function processedOf(project: RunProject, model: string) {
  const result = await runCli(
    '--project',
    project.root,
    'intervals',
    `${project.schema}.${model}`,
    '--format',
    'json',
  );
  return JSON.parse(result.stdout) as {
    table: { schema: string; name: string };
    processed: { start: string; end: string }[];
  };
}

async function rowsIn(project: RunProject, table: { schema: string; name: string }) {
  const adapter = await project.openEngine();
  try {
    const total = await countRows(adapter, adapter.quoteTable(table));
    const days = await adapter.query(
      `SELECT COUNT(DISTINCT day) AS n FROM ${adapter.quoteTable(table)}`,
    );
    return { total, distinctDays: Number(days.rows[0]?.n) };
  } finally {
    await adapter.close();
  }
}

describe('a run killed midway', () => {
  it.each([
    ['after writing a batch but before recording it', 'run-before-record:2', '2024-01-04'],
    ['right after recording a batch', 'run-after-record:2', '2024-01-07'],
  ])(
    '%s keeps what it recorded, records nothing unwritten, and the next run completes without duplicates',
    async (_, failpoint, recordedEnd) => {
      const project = await writeRunProject('duckdb', { 'models/orders.sql': ORDERS });
      await createEnvironment(project);

      const killed = await runChild(project.root, { SLUICE_FAILPOINT: failpoint }, 'run');
      expect(killed.signal).toBe('SIGKILL');

      const afterKill = await processedOf(project, 'orders');
      expect(afterKill.processed).toEqual([
        { start: '2024-01-01T00:00:00.000Z', end: `${recordedEnd}T00:00:00.000Z` },
      ]);
      // Both batches were committed on the engine; only what was recorded counts as done.
      expect(await rowsIn(project, afterKill.table)).toEqual({ total: 6, distinctDays: 6 });

      const rerun = await runChild(project.root, {}, 'run', '--format', 'json');
      expect(rerun.code).toBe(0);
      expect((await processedOf(project, 'orders')).processed).toEqual([
        { start: '2024-01-01T00:00:00.000Z', end: '2024-01-11T00:00:00.000Z' },
      ]);
      expect(await rowsIn(project, afterKill.table)).toEqual({ total: 10, distinctDays: 10 });
    },
  );
});

describe.skipIf(inject('postgresSkipReason') !== '')('two runs at once on PostgreSQL', () => {
  let project: RunProject;

  beforeAll(async () => {
    project = await writeRunProject('postgres', { 'models/slow.sql': SLOW });
    const adapter = await project.openEngine();
    try {
      await adapter.execute(`CREATE SCHEMA ${project.schema}_log`);
      await adapter.execute(
        `CREATE TABLE ${project.schema}_log.evaluations (day DATE, pid INTEGER)`,
      );
    } finally {
      await adapter.close();
    }
    await createEnvironment(project);
  });
  afterAll(async () => {
    await project?.cleanup();
  });

  it('never evaluate the same interval twice: the second waits and then finds it done', async () => {
    const [first, second] = await Promise.all([
      runChild(project.root, {}, 'run', '--format', 'json'),
      runChild(project.root, {}, 'run', '--format', 'json'),
    ]);

    expect([first.code, second.code]).toEqual([0, 0]);
    const adapter = await project.openEngine();
    try {
      const log = await adapter.query(
        `SELECT COUNT(*) AS evaluations, COUNT(DISTINCT day) AS days FROM ${project.schema}_log.evaluations`,
      );
      expect(log.rows[0]).toEqual({ evaluations: 6, days: 6 });
    } finally {
      await adapter.close();
    }
    const tasks = [first, second].map(
      (result) =>
        (JSON.parse(result.stdout) as { models: { tasks: number }[] }).models[0]?.tasks ?? 0,
    );
    // Six one-day batches in all, however the two runs shared them.
    expect((tasks[0] ?? 0) + (tasks[1] ?? 0)).toBe(6);
    expect((await processedOf(project, 'slow')).processed).toEqual([
      { start: '2024-01-01T00:00:00.000Z', end: '2024-01-07T00:00:00.000Z' },
    ]);
  });
});
