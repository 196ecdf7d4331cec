import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Model } from '../../../src/core/model.js';
import type { TableName } from '../../../src/core/table-resolver.js';
import { runAudit } from '../../../src/executor/audits/run-audit.js';
import { auditSpecsOf } from '../../../src/project/audit-specs.js';
import type { Project } from '../../../src/project/project.js';
import { loadProject } from '../../../src/project/project-loader.js';
import type { ModelTask } from '../../../src/protocol/task.js';
import { createSqlParser, type SqlParser } from '../../../src/sql/sql-parser.js';
import { enginesUnderTest, type TestEngine } from '../../helpers/engines.js';
import { writeProject } from '../../helpers/temp-project.js';

const DAY_MS = 86_400_000;
const JAN_2 = Date.parse('2024-01-02T00:00:00Z');

const ORDERS_ROWS = `(VALUES
  (1, 10, 5.0, 'new', '2024-01-01'),
  (2, 10, 7.5, 'paid', '2024-01-02'),
  (2, NULL, -1.0, 'lost', '2024-01-02'),
  (3, 11, 0.0, 'paid', '2024-01-03')
) AS rows_(order_id, customer_id, amount, status, order_day)`;

const AUDITS = `AUDIT (name assert_positive, blocking false, defaults (threshold := 0));
SELECT * FROM @this_model WHERE @column <= @threshold;

AUDIT (name no_rows_before_start);
SELECT * FROM @this_model WHERE order_day < @start_ds`;

for (const engine of enginesUnderTest()) {
  describe.skipIf(engine.skipReason !== '')(`running audits on ${engine.name}`, () => {
    let testEngine: TestEngine;
    let parser: SqlParser;
    let project: Project;
    let table: TableName;

    beforeAll(async () => {
      testEngine = await engine.open();
      parser = await createSqlParser();
      const header = (audits: string, kind: string) =>
        `MODEL (name shop.orders, kind ${kind}, dialect ${engine.name}, audits (${audits}));\n`;
      const query =
        'SELECT order_id, customer_id, amount, status, CAST(order_day AS DATE) AS order_day FROM raw.orders';
      const root = await writeProject({
        'sluice.yaml': `name: test\nmodel_defaults:\n  start: '2024-01-01'\n  dialect: ${engine.name}\n`,
        'audits/checks.sql': AUDITS,
        'models/orders.sql': header(ALL_AUDITS, 'FULL') + query,
        'models/daily.sql':
          header(DAILY_AUDITS, 'INCREMENTAL_BY_TIME_RANGE (time_column order_day)').replace(
            'shop.orders',
            'shop.daily',
          ) + query,
      });
      project = await loadProject(root, { useCache: false });

      const schema = testEngine.schema('shop');
      await testEngine.adapter.createSchema(schema);
      table = { schema, name: 'orders_v1' };
      await testEngine.adapter.execute(
        `CREATE TABLE ${testEngine.adapter.quoteTable(table)} AS SELECT order_id, customer_id, ` +
          `CAST(amount AS DECIMAL(10, 2)) AS amount, CAST(status AS VARCHAR) AS status, ` +
          `CAST(order_day AS DATE) AS order_day FROM ${ORDERS_ROWS}`,
      );
    });

    afterAll(async () => {
      await testEngine?.cleanup();
      await parser?.close();
    });

    function taskFor(modelName: string, auditName: string, interval?: ModelTask['interval']) {
      const model = project.models.get(modelName) as Model;
      const audit = auditSpecsOf(model, project.audits).find((spec) => spec.name === auditName);
      if (audit === undefined) throw new Error(`model ${modelName} has no audit ${auditName}`);
      const task: ModelTask = {
        id: 'task-1',
        runId: 'run-1',
        kind: 'audit',
        pool: 'run',
        modelName,
        snapshotId: `${modelName}/v1/abc`,
        versionId: `${modelName}/v1`,
        interval,
        executionTimeMs: JAN_2 + DAY_MS,
        context: {
          projectName: 'test',
          gateway: 'local',
          variables: {},
          models: [model],
          tables: { [modelName]: table },
        },
        audit,
      };
      return task;
    }

    const audit = (name: string, interval?: ModelTask['interval']) =>
      runAudit(testEngine.adapter, parser, taskFor('shop.orders', name, interval));

    it('passes not_null on columns without nulls and fails with the null rows', async () => {
      expect(await audit('not_null')).toEqual({ failedRows: 0, sampleRows: [] });

      const findings = await audit('not_null_non_blocking');
      expect(findings.failedRows).toBe(1);
      expect(findings.sampleRows).toEqual([
        { order_id: 2, customer_id: null, amount: -1, status: 'lost', order_day: '2024-01-02' },
      ]);
    });

    it('fails unique_values once per repeated value, and unique_combination per repeated group', async () => {
      const unique = await audit('unique_values');
      expect(unique.failedRows).toBe(1);
      expect(unique.sampleRows[0]).toMatchObject({ order_id: 2 });

      const combination = await audit('unique_combination_of_columns');
      expect(combination).toEqual({
        failedRows: 1,
        sampleRows: [{ order_id: 2, order_day: '2024-01-02', sluice_row_count: 2 }],
      });
    });

    it('fails accepted_values with the rows outside the list', async () => {
      const findings = await audit('accepted_values');
      expect(findings.failedRows).toBe(1);
      expect(findings.sampleRows[0]).toMatchObject({ status: 'lost' });
    });

    it('fails accepted_range inclusively and exclusively', async () => {
      const inclusive = await audit('accepted_range');
      expect(inclusive.failedRows).toBe(1);
      expect(inclusive.sampleRows[0]).toMatchObject({ amount: -1 });

      const exclusive = await audit('accepted_range_non_blocking');
      expect(exclusive.failedRows).toBe(2);
    });

    it('fails number_of_rows when the table has no more rows than the threshold', async () => {
      expect((await audit('number_of_rows')).failedRows).toBe(0);

      const findings = await audit('number_of_rows_non_blocking');
      expect(findings).toEqual({ failedRows: 1, sampleRows: [{ row_count: 4 }] });
    });

    it('fails forall with the rows that break a criterion', async () => {
      const findings = await audit('forall');
      expect(findings.failedRows).toBe(2);
      expect(findings.sampleRows.map((row) => row.amount).sort()).toEqual([-1, 0]);
    });

    it('runs a SQL audit with its default and with an overridden parameter', async () => {
      const byDefault = await audit('assert_positive');
      expect(byDefault.failedRows).toBe(2);

      const overridden = await runAudit(
        testEngine.adapter,
        parser,
        taskFor('shop.daily', 'assert_positive'),
      );
      expect(overridden.failedRows).toBe(3);
    });

    it('limits @this_model to the interval on an incremental model', async () => {
      const jan2 = { startMs: JAN_2, endMs: JAN_2 + DAY_MS };
      const task = (name: string) => taskFor('shop.daily', name, jan2);

      const notNull = await runAudit(testEngine.adapter, parser, task('not_null_non_blocking'));
      expect(notNull.failedRows).toBe(1);

      const jan3 = { startMs: JAN_2 + DAY_MS, endMs: JAN_2 + 2 * DAY_MS };
      const later = await runAudit(
        testEngine.adapter,
        parser,
        taskFor('shop.daily', 'not_null_non_blocking', jan3),
      );
      expect(later).toEqual({ failedRows: 0, sampleRows: [] });

      const rowsBefore = await runAudit(testEngine.adapter, parser, task('no_rows_before_start'));
      expect(rowsBefore.failedRows).toBe(0);
      const wholeTable = { startMs: JAN_2, endMs: JAN_2 + 2 * DAY_MS };
      const unfiltered = taskFor('shop.orders', 'no_rows_before_start', wholeTable);
      expect((await runAudit(testEngine.adapter, parser, unfiltered)).failedRows).toBe(1);
    });

    it('names the audit and the model when the engine rejects the query', async () => {
      const task = taskFor('shop.orders', 'not_null');
      const broken = {
        ...task,
        context: {
          ...task.context,
          tables: { 'shop.orders': { schema: table.schema, name: 'missing' } },
        },
      };

      await expect(runAudit(testEngine.adapter, parser, broken)).rejects.toThrow(
        /^Audit 'not_null' of model 'shop\.orders' could not run: /,
      );
    });
  });
}

const ALL_AUDITS = [
  'not_null(columns := (order_id, status))',
  'not_null_non_blocking(columns := (customer_id))',
  'unique_values(columns := (order_id))',
  'unique_combination_of_columns(columns := (order_id, order_day))',
  "accepted_values(column := status, is_in := ('new', 'paid', 'shipped'))",
  'accepted_range(column := amount, min_v := 0, max_v := 10)',
  'accepted_range_non_blocking(column := amount, min_v := 0, inclusive := false)',
  'number_of_rows(threshold := 3)',
  'number_of_rows_non_blocking(threshold := 4)',
  'forall(criteria := (amount > 0, customer_id IS NOT NULL OR amount > 0))',
  'assert_positive(column := amount)',
  'no_rows_before_start',
].join(', ');

const DAILY_AUDITS = [
  'not_null_non_blocking(columns := (customer_id))',
  'assert_positive(column := amount, threshold := 5)',
  'no_rows_before_start',
].join(', ');
