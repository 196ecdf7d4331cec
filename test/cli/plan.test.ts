import { writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntryInfo } from '../../src/protocol/audit-log-api.js';
import { enginesUnderTest } from '../helpers/engines.js';
import { type RunProject, writeRunProject } from '../helpers/run-project.js';
import { runCli } from '../helpers/temp-project.js';

/** Plans, environments, promotion and rollback, end to end through the CLI on both engines. */

const CUSTOMERS = `MODEL (name {s}.customers, kind SEED (path '../seeds/customers.csv'));\n`;

const ORDERS = `MODEL (
  name {s}.orders,
  kind INCREMENTAL_BY_TIME_RANGE (time_column day, batch_size 5),
  start '2024-01-01',
  end '2024-01-10'
);

SELECT CAST(t.d AS DATE) AS day, c.id AS customer_id
FROM generate_series(TIMESTAMP '2024-01-01', TIMESTAMP '2024-01-31', INTERVAL '1 day') AS t(d)
CROSS JOIN {s}.customers AS c
WHERE CAST(t.d AS DATE) BETWEEN @start_ds AND @end_ds
`;

const TOTALS = (
  expression: string,
) => `MODEL (name {s}.daily_totals, kind FULL, start '2024-01-01', end '2024-01-10');

SELECT day, ${expression} AS orders FROM {s}.orders GROUP BY day
`;

const SUMMARY = `MODEL (name {s}.summary, kind FULL, start '2024-01-01', end '2024-01-10');

SELECT SUM(orders) AS orders FROM {s}.daily_totals
`;

const PEOPLE = `MODEL (name {s}.people, kind FULL, start '2024-01-01', end '2024-01-10');

SELECT COUNT(*) AS people FROM {s}.customers
`;

type PlanJson = {
  id: string;
  isApplied: boolean;
  changes: { modelName: string; kind: string; category?: string; diff?: string }[];
  backfills: { modelName: string }[];
};

describe.each(enginesUnderTest())('plans and environments on $name', (engine) => {
  let project: RunProject;
  const cli = (...args: string[]) => runCli('--project', project.root, ...args);
  const name = (model: string) => `${project.schema}.${model}`;
  const planJson = async (...args: string[]) => {
    const result = await cli('plan', '--format', 'json', ...args);
    return { ...result, json: JSON.parse(result.stdout || '{}') as PlanJson };
  };
  const write = (file: string, text: string) =>
    writeFile(join(project.root, file), text.replaceAll('{s}', project.schema));
  /** Every row of every view of an environment, in a stable order. */
  const viewRows = async (environment: string) => {
    const schema = environment === 'prod' ? project.schema : `${project.schema}__${environment}`;
    const adapter = await project.openEngine();
    try {
      const read = async (view: string, order: string) =>
        (await adapter.query(`SELECT * FROM ${schema}.${view} ORDER BY ${order}`)).rows;
      return {
        orders: await read('orders', 'day, customer_id'),
        totals: await read('daily_totals', 'day'),
        summary: await read('summary', 'orders'),
        people: await read('people', 'people'),
      };
    } finally {
      await adapter.close();
    }
  };

  beforeAll(async () => {
    if (engine.skipReason !== '') return;
    project = await writeRunProject(engine.name, {
      'seeds/customers.csv': 'id,name\n1,Ada\n2,Grace\n',
      'models/customers.sql': CUSTOMERS,
      'models/orders.sql': ORDERS,
      'models/daily_totals.sql': TOTALS('COUNT(*)'),
      'models/summary.sql': SUMMARY,
      'models/people.sql': PEOPLE,
    });
  });
  afterAll(async () => {
    if (engine.skipReason === '') await project.cleanup();
  });

  it.skipIf(engine.skipReason !== '')(
    'shows a plan without a terminal, applies nothing and says how to apply it',
    async () => {
      const result = await cli('plan');

      expect(result.code).toBe(3);
      expect(result.stdout).toContain("for environment 'prod' (a new environment)");
      expect(result.stdout).toContain('Added models (5):');
      expect(result.stdout).toMatch(/\+ .*\.orders/);
      expect(result.stdout).toMatch(
        /Nothing was applied\. To apply this plan, run 'sluice apply \w+'/,
      );
      expect((await cli('environments')).stdout).toContain('No environments yet');
    },
  );

  it.skipIf(engine.skipReason !== '')('plans and applies the project to prod', async () => {
    const result = await cli('plan', '--auto-apply');

    expect(result.code).toBe(0);
    expect(result.stdout).toContain("Applied: environment 'prod' is at revision 1.");
    const rows = await viewRows('prod');
    expect(rows.orders).toHaveLength(20);
    expect(rows.totals).toHaveLength(10);
    expect(rows.summary).toEqual([{ orders: 20 }]);
    expect(rows.people).toEqual([{ people: 2 }]);
  });

  it.skipIf(engine.skipReason !== '')(
    'records the applied plan in the audit log with its environment and model count',
    async () => {
      const result = await cli('audit-log', '--format', 'json');

      expect(result.code).toBe(0);
      const entries = (JSON.parse(result.stdout) as { entries: AuditEntryInfo[] }).entries;
      const applied = entries.filter((entry) => entry.action === 'plan.applied');
      expect(applied).toHaveLength(1);
      expect(applied[0]).toMatchObject({
        actor: `local:${userInfo().username}`,
        subject: 'prod',
        details: { models: 5, revision: 1, baseRevision: 0, planId: expect.any(String) },
      });
      expect(Object.keys(applied[0]?.details ?? {}).sort()).toEqual([
        'baseRevision',
        'changes',
        'models',
        'planId',
        'revision',
      ]);
      expect((await cli('audit-log', 'verify')).code).toBe(0);
    },
  );

  it.skipIf(engine.skipReason !== '')(
    'says there is nothing to do for an unchanged project',
    async () => {
      const result = await cli('plan');

      expect(result.code).toBe(0);
      expect(result.stdout).toBe(
        "No changes: environment 'prod' matches the project; nothing to do.\n",
      );
    },
  );

  it.skipIf(engine.skipReason !== '')(
    'builds only the changed model and its downstream models in dev, and leaves prod untouched',
    async () => {
      const prodBefore = await viewRows('prod');
      await write('models/daily_totals.sql', TOTALS('COUNT(*) * 2'));

      const dev = await planJson('dev', '--auto-apply');

      expect(dev.code).toBe(0);
      expect(
        dev.json.changes.find((change) => change.modelName === name('daily_totals')),
      ).toMatchObject({
        kind: 'directly_modified',
        category: 'breaking',
      });
      expect(dev.json.changes.find((change) => change.modelName === name('summary'))).toMatchObject(
        {
          kind: 'indirectly_modified',
          category: 'breaking',
        },
      );
      expect(dev.json.backfills.map((entry) => entry.modelName).sort()).toEqual(
        [name('daily_totals'), name('summary')].sort(),
      );
      const devRows = await viewRows('dev');
      expect(devRows.summary).toEqual([{ orders: 40 }]);
      expect(devRows.orders).toEqual(prodBefore.orders);
      expect(await viewRows('prod')).toEqual(prodBefore);
      expect((await cli('table-name', name('orders'), '--env', 'dev')).stdout).toBe(
        (await cli('table-name', name('orders'))).stdout,
      );
    },
  );

  it.skipIf(engine.skipReason !== '')(
    'promotes the versions dev built to prod without building them again, then rolls back',
    async () => {
      const prodBefore = await viewRows('prod');

      const promoted = await planJson('--auto-apply');
      expect(promoted.code).toBe(0);
      expect(promoted.json.backfills).toEqual([]);
      expect((await viewRows('prod')).summary).toEqual([{ orders: 40 }]);

      const rollback = await cli('rollback', 'prod');
      expect(rollback.code).toBe(0);
      expect(rollback.stdout).toContain("Rolled back 'prod'");
      expect(await viewRows('prod')).toEqual(prodBefore);

      const log = await cli('audit-log', '--format', 'json');
      const entries = (JSON.parse(log.stdout) as { entries: AuditEntryInfo[] }).entries;
      expect(entries.at(-1)).toMatchObject({
        actor: `local:${userInfo().username}`,
        action: 'environment.rolled_back',
        subject: 'prod',
      });
    },
  );

  it.skipIf(engine.skipReason !== '')('refuses a stale plan and says to plan again', async () => {
    await write(
      'models/people.sql',
      PEOPLE.replace('COUNT(*) AS people', 'COUNT(*) + 1 AS people'),
    );
    const first = await planJson('dev');
    expect(first.code).toBe(3);
    expect(first.json.isApplied).toBe(false);

    await write(
      'models/people.sql',
      PEOPLE.replace('COUNT(*) AS people', 'COUNT(*) + 2 AS people'),
    );
    expect((await cli('plan', 'dev', '--auto-apply')).code).toBe(0);

    const stale = await cli('apply', first.json.id);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toMatch(
      new RegExp(
        /Environment 'dev' changed since this plan was made /.source +
          /\(revision 1 then, 2 now by plan \w+\); run 'sluice plan dev' again/.source,
      ),
    );
    expect((await viewRows('dev')).people).toEqual([{ people: 4 }]);
  });

  it.skipIf(engine.skipReason !== '')('lists, compares and invalidates environments', async () => {
    const diff = await cli('diff', 'dev');
    expect(diff.stdout).toMatch(/~ .*\.people: version \w+ -> \w+/);
    expect(diff.stdout).toContain('+SELECT COUNT(*) + 2 AS people');

    expect((await cli('invalidate', 'dev')).code).toBe(0);
    const listed = (await cli('environments')).stdout;
    expect(listed).toMatch(/^dev {2}revision 2, 5 models, .*expired /m);
    expect(listed).toMatch(/^prod {2}revision 3, 5 models, .*never expires$/m);
    expect((await cli('invalidate', 'prod')).stderr).toContain('prod cannot be invalidated');
  });
});
