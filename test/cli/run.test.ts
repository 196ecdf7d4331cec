import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enginesUnderTest } from '../helpers/engines.js';
import { countRows, type RunProject, writeRunProject } from '../helpers/run-project.js';
import { runCli } from '../helpers/temp-project.js';

const CUSTOMERS = `MODEL (name {s}.customers, kind SEED (path '../seeds/customers.csv'));\n`;

const ORDERS = `MODEL (
  name {s}.orders,
  kind INCREMENTAL_BY_TIME_RANGE (time_column day, batch_size 3),
  cron '@daily',
  start '2024-01-01',
  end '2024-01-10'
);

SELECT CAST(t.d AS DATE) AS day, c.id AS customer_id
FROM generate_series(TIMESTAMP '2024-01-01', TIMESTAMP '2024-01-31', INTERVAL '1 day') AS t(d)
CROSS JOIN {s}.customers AS c
WHERE CAST(t.d AS DATE) BETWEEN @start_ds AND @end_ds
`;

const TOTALS = `MODEL (name {s}.daily_totals, kind FULL, start '2024-01-01', end '2024-01-10');

SELECT day, COUNT(*) AS orders FROM {s}.orders GROUP BY day
`;

const BROKEN = `MODEL (name {s}.broken, kind FULL, start '2024-01-01', end '2024-01-10');

SELECT CAST(name AS INTEGER) AS n FROM {s}.customers
`;

const FIXED = `MODEL (name {s}.broken, kind FULL, start '2024-01-01', end '2024-01-10');

SELECT COUNT(*) AS n FROM {s}.customers
`;

const AFTER_BROKEN = `MODEL (name {s}.after_broken, kind VIEW);

SELECT n FROM {s}.broken
`;

type RunJson = {
  counts: Record<string, number>;
  models: {
    model: string;
    outcome: string;
    tasks: number;
    rowsWritten: number;
    evaluated: { start: string; end: string }[];
    skippedBecause?: string;
    error?: { code: string; message: string };
  }[];
};

type IntervalsJson = {
  version: string;
  table: { schema: string; name: string };
  processed: { start: string; end: string }[];
  missing: { start: string; end: string }[];
};

type PlanJson = {
  hasChanges: boolean;
  isApplied: boolean;
  changes: { modelName: string; kind: string; category?: string }[];
  backfills: { modelName: string; needsCreate: boolean; intervals: number }[];
};

describe.each(enginesUnderTest())('sluice run on $name', (engine) => {
  let project: RunProject;

  const cli = (...args: string[]) => runCli('--project', project.root, ...args);
  const run = async () => {
    const result = await cli('run', '--format', 'json');
    return { ...result, json: JSON.parse(result.stdout) as RunJson };
  };
  const plan = async (...args: string[]) => {
    const result = await cli('plan', '--auto-apply', '--format', 'json', ...args);
    return { ...result, json: JSON.parse(result.stdout || '{}') as PlanJson };
  };
  const modelOf = (json: RunJson, name: string) => {
    const found = json.models.find((model) => model.model === `${project.schema}.${name}`);
    if (found === undefined) throw new Error(`no result for ${name}`);
    return found;
  };
  const changeOf = (json: PlanJson, name: string) =>
    json.changes.find((change) => change.modelName === `${project.schema}.${name}`);
  const intervals = async (name: string) => {
    const result = await cli('intervals', `${project.schema}.${name}`, '--format', 'json');
    expect(result.stderr).toBe('');
    return JSON.parse(result.stdout) as IntervalsJson;
  };
  const rowsOf = async (table: { schema: string; name: string }) => {
    const adapter = await project.openEngine();
    try {
      return await countRows(adapter, adapter.quoteTable(table));
    } finally {
      await adapter.close();
    }
  };
  const write = (file: string, text: string) =>
    writeFile(join(project.root, file), text.replaceAll('{s}', project.schema));

  beforeAll(async () => {
    if (engine.skipReason !== '') return;
    project = await writeRunProject(engine.name, {
      'seeds/customers.csv': 'id,name\n1,Ada\n2,Grace\n',
      'models/customers.sql': CUSTOMERS,
      'models/orders.sql': ORDERS,
      'models/daily_totals.sql': TOTALS,
      'models/broken.sql': BROKEN,
      'models/after_broken.sql': AFTER_BROKEN,
    });
  });
  afterAll(async () => {
    if (engine.skipReason === '') await project.cleanup();
  });

  it.skipIf(engine.skipReason !== '')(
    'evaluates every due interval in batches and skips only what is downstream of a failure',
    async () => {
      const created = await plan('--skip-backfill');
      expect(created.code).toBe(0);
      expect(created.json.isApplied).toBe(true);

      const first = await run();

      expect(first.code).toBe(1);
      expect(first.stderr).toMatch(/error: 1 of 5 models failed: '.*\.broken'/);
      expect(modelOf(first.json, 'customers').outcome).toBe('up_to_date');
      expect(modelOf(first.json, 'orders')).toMatchObject({
        outcome: 'succeeded',
        tasks: 4,
        rowsWritten: 20,
        evaluated: [{ start: '2024-01-01T00:00:00.000Z', end: '2024-01-11T00:00:00.000Z' }],
      });
      expect(modelOf(first.json, 'daily_totals')).toMatchObject({ outcome: 'succeeded', tasks: 1 });
      expect(modelOf(first.json, 'broken')).toMatchObject({
        outcome: 'failed',
        error: { code: 'engine_error' },
      });
      expect(modelOf(first.json, 'after_broken')).toMatchObject({
        outcome: 'skipped',
        skippedBecause: `${project.schema}.broken`,
      });

      const orders = await intervals('orders');
      expect(orders.processed).toEqual([
        { start: '2024-01-01T00:00:00.000Z', end: '2024-01-11T00:00:00.000Z' },
      ]);
      expect(orders.missing).toEqual([]);
      expect(await rowsOf(orders.table)).toBe(20);
      expect(await rowsOf((await intervals('daily_totals')).table)).toBe(10);
      expect(await rowsOf({ schema: project.schema, name: 'orders' })).toBe(20);
    },
  );

  it.skipIf(engine.skipReason !== '')(
    'leaves done work alone: a fix goes through a plan, and the next run has nothing to do',
    async () => {
      await write('models/broken.sql', FIXED);

      const fixed = await plan();
      expect(fixed.code).toBe(0);
      expect(changeOf(fixed.json, 'broken')).toMatchObject({
        kind: 'directly_modified',
        category: 'breaking',
      });
      expect(fixed.json.backfills.map((entry) => entry.modelName).sort()).toEqual(
        [`${project.schema}.after_broken`, `${project.schema}.broken`].sort(),
      );

      const second = await run();
      expect(second.code).toBe(0);
      expect(second.json.counts).toEqual({ succeeded: 0, up_to_date: 5, failed: 0, skipped: 0 });
    },
  );

  it.skipIf(engine.skipReason !== '')(
    'keeps the version and table on a metadata-only change; an added column rebuilds only its model',
    async () => {
      const orders = await intervals('orders');
      const totals = await intervals('daily_totals');
      const withOwner = ORDERS.replace("cron '@daily',", "cron '@daily',\n  owner 'data-team',");
      await write('models/orders.sql', withOwner);

      const metadata = await plan();
      expect(changeOf(metadata.json, 'orders')).toMatchObject({ kind: 'metadata_only' });
      expect(metadata.json.backfills).toEqual([]);
      expect((await intervals('orders')).table).toEqual(orders.table);

      await write(
        'models/orders.sql',
        withOwner.replace('c.id AS customer_id', 'c.id AS customer_id, 1 AS batch'),
      );
      const added = await plan();

      expect(added.code).toBe(0);
      expect(changeOf(added.json, 'orders')).toMatchObject({
        kind: 'directly_modified',
        category: 'non_breaking',
      });
      expect(changeOf(added.json, 'daily_totals')).toMatchObject({
        kind: 'indirectly_modified',
        category: 'non_breaking',
      });
      expect(added.json.backfills.map((entry) => entry.modelName)).toEqual([
        `${project.schema}.orders`,
      ]);
      const after = await intervals('orders');
      expect(after.version).not.toBe(orders.version);
      expect(await rowsOf(after.table)).toBe(20);
      expect(await rowsOf(orders.table)).toBe(20);
      expect((await intervals('daily_totals')).table).toEqual(totals.table);
    },
  );
});

describe('sluice run output', () => {
  let project: RunProject;

  beforeAll(async () => {
    project = await writeRunProject('duckdb', {
      'seeds/customers.csv': 'id,name\n1,Ada\n',
      'models/customers.sql': CUSTOMERS,
      'models/orders.sql': ORDERS,
    });
  });

  it('prints a plain line per task and a summary when not on a terminal', async () => {
    const planned = await runCli(
      '--project',
      project.root,
      'plan',
      '--auto-apply',
      '--skip-backfill',
    );
    expect(planned.code).toBe(0);

    const result = await runCli('--project', project.root, 'run');

    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(
      /^ok .*\.orders \[2024-01-01, 2024-01-04\) \(\d+\.\d s, 3 rows\)$/m,
    );
    expect(result.stderr).toMatch(
      /^ok .*\.orders \[2024-01-10, 2024-01-11\) \(\d+\.\d s, 1 row\)$/m,
    );
    expect(result.stdout).toMatch(
      /^Run of prod finished in \d+\.\d s: 1 evaluated, 1 up to date, 0 failed, 0 skipped$/m,
    );
  });

  it('refuses an environment that no plan created, and a bad concurrency', async () => {
    const environment = await runCli('--project', project.root, 'run', 'dev');
    const concurrency = await runCli('--project', project.root, 'run', '--concurrency', '0');

    expect(environment.code).toBe(1);
    expect(environment.stderr).toMatch(
      /Environment 'dev' does not exist; create it with 'sluice plan dev'/,
    );
    expect(concurrency.code).toBe(1);
    expect(concurrency.stderr).toMatch(/--concurrency '0' is not a whole number from 1 to 256/);
  });

  it('says which model has no intervals', async () => {
    const result = await runCli(
      '--project',
      project.root,
      'intervals',
      `${project.schema}.customers`,
    );

    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/is a SEED model, which has no intervals/);
  });
});
