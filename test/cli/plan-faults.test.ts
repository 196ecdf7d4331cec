import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type RunProject, writeRunProject } from '../helpers/run-project.js';
import { runCli } from '../helpers/temp-project.js';

/**
 * Applies killed at controlled points, with `sluice plan` in a child process (the built CLI, as
 * `npm test` builds it first): views always point at complete tables, and planning again resumes.
 */

const SLUICE = fileURLToPath(new URL('../../bin/sluice.js', import.meta.url));

const ORDERS = (factor: number) => `MODEL (
  name {s}.orders,
  kind INCREMENTAL_BY_TIME_RANGE (time_column day, batch_size 3),
  start '2024-01-01',
  end '2024-01-10'
);

SELECT CAST(t.d AS DATE) AS day, ${factor} AS amount
FROM generate_series(TIMESTAMP '2024-01-01', TIMESTAMP '2024-01-31', INTERVAL '1 day') AS t(d)
WHERE CAST(t.d AS DATE) BETWEEN @start_ds AND @end_ds
`;

const TOTALS = `MODEL (name {s}.totals, kind FULL, start '2024-01-01', end '2024-01-10');

SELECT SUM(amount) AS amount, COUNT(*) AS days FROM {s}.orders
`;

function planInChild(project: RunProject, failpoint: string, environment: string) {
  return new Promise<{ signal: NodeJS.Signals | null }>((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [SLUICE, '--project', project.root, 'plan', environment, '--auto-apply'],
      { env: { ...process.env, SLUICE_FAILPOINT: failpoint }, stdio: 'ignore' },
    );
    child.on('error', reject);
    child.on('close', (_code, signal) => resolve({ signal }));
  });
}

async function totalsIn(project: RunProject, schema: string) {
  const adapter = await project.openEngine();
  try {
    const result = await adapter.query(`SELECT amount, days FROM ${schema}.totals`);
    return result.rows[0];
  } finally {
    await adapter.close();
  }
}

async function setUp(): Promise<RunProject> {
  const project = await writeRunProject('duckdb', {
    'models/orders.sql': ORDERS(1),
    'models/totals.sql': TOTALS,
  });
  expect((await runCli('--project', project.root, 'plan', '--auto-apply')).code).toBe(0);
  await writeFile(
    join(project.root, 'models/orders.sql'),
    ORDERS(2).replaceAll('{s}', project.schema),
  );
  return project;
}

describe('an apply killed midway', () => {
  it('during the backfill leaves prod as it was and no dev; planning again resumes', async () => {
    const project = await setUp();

    const killed = await planInChild(project, 'run-after-record:2', 'dev');

    expect(killed.signal).toBe('SIGKILL');
    expect(await totalsIn(project, project.schema)).toEqual({ amount: 10, days: 10 });
    expect((await runCli('--project', project.root, 'environments')).stdout).not.toMatch(/^dev/m);
    const resumed = await runCli(
      '--project',
      project.root,
      'plan',
      'dev',
      '--auto-apply',
      '--format',
      'json',
    );
    expect(resumed.code).toBe(0);
    const plan = JSON.parse(resumed.stdout) as {
      backfills: { modelName: string; intervals: number }[];
    };
    // Two batches of three days were recorded before the kill; four days are left.
    expect(
      plan.backfills.find((entry) => entry.modelName === `${project.schema}.orders`)?.intervals,
    ).toBe(4);
    expect(await totalsIn(project, `${project.schema}__dev`)).toEqual({ amount: 20, days: 10 });
    expect(await totalsIn(project, project.schema)).toEqual({ amount: 10, days: 10 });
  });

  it('after swapping the views leaves them on complete tables; planning again records it', async () => {
    const project = await setUp();

    const killed = await planInChild(project, 'apply-after-promote', 'prod');

    expect(killed.signal).toBe('SIGKILL');
    expect(await totalsIn(project, project.schema)).toEqual({ amount: 20, days: 10 });
    const again = await runCli(
      '--project',
      project.root,
      'plan',
      '--auto-apply',
      '--format',
      'json',
    );
    expect(again.code).toBe(0);
    expect((JSON.parse(again.stdout) as { backfills: unknown[] }).backfills).toEqual([]);
    expect((await runCli('--project', project.root, 'environments')).stdout).toMatch(
      /^prod {2}revision 2,/m,
    );
    expect(await totalsIn(project, project.schema)).toEqual({ amount: 20, days: 10 });
  });
});
