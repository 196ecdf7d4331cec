import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enginesUnderTest } from '../helpers/engines.js';
import { type RunProject, writeRunProject } from '../helpers/run-project.js';
import { runCli } from '../helpers/temp-project.js';

/** Audits in plans, runs and by hand, end to end through the CLI on both engines. */

const ORDERS = (customer: string, audit: string) => `MODEL (
  name {s}.orders,
  kind INCREMENTAL_BY_TIME_RANGE (time_column day, batch_size 5),
  start '2024-01-01',
  end '2024-01-10',
  audits (${audit}(columns := (customer_id)))
);

SELECT CAST(t.d AS DATE) AS day, ${customer} AS customer_id
FROM generate_series(TIMESTAMP '2024-01-01', TIMESTAMP '2024-01-31', INTERVAL '1 day') AS t(d)
WHERE CAST(t.d AS DATE) BETWEEN @start_ds AND @end_ds
`;

const TOTALS = `MODEL (name {s}.totals, kind FULL, start '2024-01-01', end '2024-01-10');

SELECT COUNT(customer_id) AS customers FROM {s}.orders
`;

const HOLE = "CASE WHEN CAST(t.d AS DATE) = DATE '2024-01-07' THEN NULL ELSE 1 END";

describe.each(enginesUnderTest())('audits on $name', (engine) => {
  let project: RunProject;
  const cli = (...args: string[]) => runCli('--project', project.root, ...args);
  const write = (text: string) =>
    writeFile(join(project.root, 'models/orders.sql'), text.replaceAll('{s}', project.schema));
  const customers = async () => {
    const adapter = await project.openEngine();
    try {
      const rows = await adapter.query(`SELECT customers FROM ${project.schema}.totals`);
      return Number(rows.rows[0]?.customers);
    } finally {
      await adapter.close();
    }
  };

  beforeAll(async () => {
    if (engine.skipReason !== '') return;
    project = await writeRunProject(engine.name, {
      'models/orders.sql': ORDERS('1', 'not_null'),
      'models/totals.sql': TOTALS,
    });
  });
  afterAll(async () => {
    if (engine.skipReason === '') await project.cleanup();
  });

  it.skipIf(engine.skipReason !== '')('promotes a plan whose audits pass', async () => {
    expect((await cli('plan', '--auto-apply')).code).toBe(0);
    expect(await customers()).toBe(10);
  });

  it.skipIf(engine.skipReason !== '')(
    'keeps prod on its old versions when a blocking audit fails, naming audit, model, interval and rows',
    async () => {
      const before = (await cli('table-name', `${project.schema}.orders`)).stdout;
      await write(ORDERS(HOLE, 'not_null'));

      const failed = await cli('plan', '--auto-apply');

      expect(failed.code).toBe(1);
      expect(failed.stderr).toContain(
        `Audit 'not_null' of model '${project.schema}.orders' failed on [2024-01-06, 2024-01-11): 1 row failed`,
      );
      expect(failed.stderr).toContain('"customer_id":null');
      expect((await cli('table-name', `${project.schema}.orders`)).stdout).toBe(before);
      expect(await customers()).toBe(10);
    },
  );

  it.skipIf(engine.skipReason !== '')(
    'warns about a non-blocking audit and promotes; sluice audit reports the same by hand',
    async () => {
      await write(ORDERS(HOLE, 'not_null_non_blocking'));

      const applied = await cli('plan', '--auto-apply');

      expect(applied.code).toBe(0);
      expect(applied.stderr).toMatch(
        /warning: Audit 'not_null_non_blocking' of model '.*\.orders' failed on \[2024-01-06, 2024-01-11\): 1 row failed/,
      );
      expect(await customers()).toBe(9);

      const byHand = await cli(
        'audit',
        `${project.schema}.orders`,
        '--start',
        '2024-01-01',
        '--end',
        '2024-01-10',
      );
      expect(byHand.code).toBe(0);
      expect(byHand.stdout).toMatch(/^warning {2}Audit 'not_null_non_blocking' .* 1 row failed/m);
    },
  );
});

describe('a SQL audit', () => {
  it('makes a metadata-only change when its definition is edited, and checks with the new one', async () => {
    const audit = (limit: number) =>
      `AUDIT (name small_amounts);\nSELECT * FROM @this_model WHERE amount > ${limit}\n`;
    const project = await writeRunProject('duckdb', {
      'audits/small_amounts.sql': audit(100),
      'models/amounts.sql':
        "MODEL (name {s}.amounts, kind FULL, start '2024-01-01', end '2024-01-02', audits (small_amounts));\n" +
        'SELECT 50 AS amount\n',
    });
    const cli = (...args: string[]) => runCli('--project', project.root, ...args);
    expect((await cli('plan', '--auto-apply')).code).toBe(0);

    await writeFile(join(project.root, 'audits/small_amounts.sql'), audit(10));
    const edited = await cli('plan', '--auto-apply', '--format', 'json');

    expect(edited.code).toBe(0);
    const plan = JSON.parse(edited.stdout) as { changes: { kind: string }[] };
    expect(plan.changes).toEqual([expect.objectContaining({ kind: 'metadata_only' })]);
    const byHand = await cli('audit', `${project.schema}.amounts`, '--start', '2024-01-01');
    expect(byHand.code).toBe(1);
    expect(byHand.stdout).toContain(
      `Audit 'small_amounts' of model '${project.schema}.amounts' failed`,
    );
  });
});
