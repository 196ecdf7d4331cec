import { describe, expect, it } from 'vitest';
import type { AuditSpec } from '../../../src/core/audit.js';
import type { Model, ModelKind } from '../../../src/core/model.js';
import { renderAuditQuery } from '../../../src/executor/audits/render-audit-query.js';

const TABLE = { schema: 'sluice__shop', name: 'shop__orders__123' };
const JAN_2 = Date.parse('2024-01-02T00:00:00Z');
const INTERVAL = { startMs: JAN_2, endMs: JAN_2 + 86_400_000 };

function modelOf(kind: ModelKind): Model {
  return {
    name: 'shop.orders',
    kind,
    dialect: 'duckdb',
    cron: '@daily',
    cronTimeZone: undefined,
    intervalUnit: undefined,
    start: '2024-01-01',
    end: undefined,
    grains: [],
    tags: [],
    owner: undefined,
    description: undefined,
    columns: [],
    audits: [],
    dependsOn: [],
    isEnabled: true,
    allowsPartials: false,
    origin: { file: 'models/orders.sql', line: 1, column: 1 },
    query: { sql: 'SELECT 1 AS id', file: 'models/orders.sql', line: 2, column: 1 },
    preStatements: [],
    postStatements: [],
    dependencies: [],
    externalTables: [],
  };
}

const FULL = modelOf({ name: 'FULL' });
const incremental = (timeColumnFormat?: string) =>
  modelOf({
    name: 'INCREMENTAL_BY_TIME_RANGE',
    timeColumn: 'order_day',
    timeColumnFormat,
    batchSize: undefined,
    lookback: 0,
    isForwardOnly: false,
  });

const builtIn = (name: string, args: AuditSpec['args']): AuditSpec => ({
  name,
  isBlocking: true,
  args,
  definition: undefined,
});

const render = (
  spec: AuditSpec,
  model = FULL,
  interval?: typeof INTERVAL,
  timeColumnType?: string,
) =>
  renderAuditQuery(
    spec,
    { table: TABLE, model, interval, ...(timeColumnType ? { timeColumnType } : {}) },
    'duckdb',
  );

describe('rendering audit queries', () => {
  it('renders each built-in over the physical table', () => {
    const from = 'FROM "sluice__shop"."shop__orders__123"';
    expect(render(builtIn('not_null', { columns: ['id', '"Order Id"'] }))).toBe(
      `SELECT * ${from} WHERE "id" IS NULL OR "Order Id" IS NULL`,
    );
    expect(render(builtIn('unique_values', { columns: ['id'] }))).toBe(
      'SELECT * FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY "id" ORDER BY "id") AS sluice_rank_1 ' +
        `${from}) AS sluice_ranked WHERE sluice_rank_1 > 1`,
    );
    expect(render(builtIn('unique_combination_of_columns', { columns: ['a', 'b'] }))).toBe(
      `SELECT "a", "b", COUNT(*) AS sluice_row_count ${from} GROUP BY "a", "b" HAVING COUNT(*) > 1`,
    );
    expect(render(builtIn('accepted_values', { column: 'status', is_in: ["it's", 2] }))).toBe(
      `SELECT * ${from} WHERE "status" NOT IN ('it''s', 2)`,
    );
    expect(render(builtIn('accepted_range', { column: 'x', min_v: 0, max_v: '9' }))).toBe(
      `SELECT * ${from} WHERE "x" < 0 OR "x" > '9'`,
    );
    expect(
      render(builtIn('accepted_range_non_blocking', { column: 'x', max_v: 9, inclusive: false })),
    ).toBe(`SELECT * ${from} WHERE "x" >= 9`);
    expect(render(builtIn('number_of_rows', { threshold: 10 }))).toBe(
      `SELECT COUNT(*) AS row_count FROM (SELECT 1 AS sluice_one ${from} LIMIT 11) AS sluice_rows HAVING COUNT(*) <= 10`,
    );
    expect(
      render(builtIn('forall', { criteria: ['a > 0', 'b <= @start_ds'] }), FULL, INTERVAL),
    ).toBe(`SELECT * ${from} WHERE NOT (a > 0) OR NOT (b <= '2024-01-02')`);
  });

  it('limits @this_model to the interval of an incremental model', () => {
    expect(render(builtIn('not_null', { columns: ['id'] }), incremental(), INTERVAL, 'DATE')).toBe(
      'SELECT * FROM (SELECT * FROM "sluice__shop"."shop__orders__123" WHERE "order_day" >= ' +
        'CAST(\'2024-01-02 00:00:00.000\' AS TIMESTAMP) AND "order_day" < ' +
        'CAST(\'2024-01-03 00:00:00.000\' AS TIMESTAMP)) AS sluice_audit_rows WHERE "id" IS NULL',
    );
  });

  it('compares a text time column in its format', () => {
    expect(render(builtIn('not_null', { columns: ['id'] }), incremental('%Y%m%d'), INTERVAL)).toBe(
      'SELECT * FROM (SELECT * FROM "sluice__shop"."shop__orders__123" WHERE "order_day" >= ' +
        "CAST('20240102' AS VARCHAR) AND \"order_day\" < CAST('20240103' AS VARCHAR)) " +
        'AS sluice_audit_rows WHERE "id" IS NULL',
    );
  });

  it('renders a SQL audit with its defaults, overridden by the reference', () => {
    const spec: AuditSpec = {
      name: 'assert_positive',
      isBlocking: true,
      args: { column: 'amount', columns: ['a', 'b'] },
      definition: {
        name: 'assert_positive',
        dialect: 'duckdb',
        query:
          'SELECT * FROM @this_model WHERE @column <= @threshold AND @flag AND @EACH(@columns, c -> c IS NULL) IS NOT NULL',
        defaults: { threshold: 0, flag: true, column: 'ignored' },
      },
    };

    expect(render(spec)).toBe(
      'SELECT * FROM "sluice__shop"."shop__orders__123" WHERE amount <= 0 AND TRUE AND a IS NULL, b IS NULL IS NOT NULL',
    );
  });

  it('rejects a built-in whose arguments do not fit, naming the audit and the model', () => {
    expect(() => render(builtIn('not_null', { columns: 'id' }))).toThrow(
      "Audit 'not_null' of model 'shop.orders' takes a list of column names such as (id, name) for 'columns'",
    );
  });
});
