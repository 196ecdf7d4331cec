import { describe, expect, it } from 'vitest';
import {
  BUILT_IN_MODEL_DEFAULTS,
  type ModelDefaults,
  type ModelDefinition,
  type ModelKind,
} from '../../src/core/model.js';
import { parseModelFile } from '../../src/project/model-file.js';

function parse(text: string, defaults: ModelDefaults = BUILT_IN_MODEL_DEFAULTS): ModelDefinition {
  return parseModelFile({
    file: 'models/shop/orders.sql',
    absolutePath: '/projects/shop/models/shop/orders.sql',
    text,
    defaults,
  });
}

function kindOf(kind: string): ModelKind {
  return parse(`MODEL (name shop.orders, kind ${kind}); SELECT 1 AS id`).kind;
}

describe('parseModelFile', () => {
  it('reads a header that sets every property', () => {
    const model = parse(`MODEL (
  name Shop.Daily_Revenue,
  kind INCREMENTAL_BY_TIME_RANGE (time_column order_date, batch_size 30, lookback 2, forward_only true),
  dialect postgresql,
  cron '@hourly',
  cron_tz 'Europe/Berlin',
  interval_unit hour,
  start '2024-01-01',
  end 1735689600000,
  grain (order_date, region),
  tags [finance, 'daily'],
  owner jen,
  description 'Revenue by day',
  columns (order_date DATE, revenue DECIMAL(10, 2), updated TIMESTAMP WITH TIME ZONE),
  audits (not_null(columns := (order_date)), accepted_values(column = region, is_in = ('eu', 'us'))),
  depends_on [shop.orders, "Raw"."Events"],
  enabled false,
  allow_partials true
);

SELECT order_date, region, SUM(amount) AS revenue FROM shop.orders GROUP BY 1, 2`);

    expect(model).toEqual({
      name: 'shop.daily_revenue',
      kind: {
        name: 'INCREMENTAL_BY_TIME_RANGE',
        timeColumn: 'order_date',
        timeColumnFormat: undefined,
        batchSize: 30,
        lookback: 2,
        isForwardOnly: true,
      },
      dialect: 'postgres',
      cron: '@hourly',
      cronTimeZone: 'Europe/Berlin',
      intervalUnit: 'hour',
      start: '2024-01-01',
      end: '1735689600000',
      grains: ['order_date, region'],
      tags: ['finance', 'daily'],
      owner: 'jen',
      description: 'Revenue by day',
      columns: [
        { name: 'order_date', type: 'DATE' },
        { name: 'revenue', type: 'DECIMAL(10, 2)' },
        { name: 'updated', type: 'TIMESTAMP WITH TIME ZONE' },
      ],
      audits: [
        { name: 'not_null', args: { columns: ['order_date'] } },
        { name: 'accepted_values', args: { column: 'region', is_in: ['eu', 'us'] } },
      ],
      dependsOn: ['shop.orders', 'Raw.Events'],
      isEnabled: false,
      allowsPartials: true,
      origin: { file: 'models/shop/orders.sql', line: 1, column: 1 },
      query: {
        sql: 'SELECT order_date, region, SUM(amount) AS revenue FROM shop.orders GROUP BY 1, 2',
        file: 'models/shop/orders.sql',
        line: 21,
        column: 1,
      },
      preStatements: [],
      postStatements: [],
    });
  });

  it('applies the project defaults where the header is silent', () => {
    const defaults: ModelDefaults = {
      dialect: 'postgres',
      cron: '@weekly',
      cronTimeZone: 'Asia/Tokyo',
      owner: 'data-team',
      start: '2023-06-01',
      intervalUnit: 'day',
      allowsPartials: true,
      isEnabled: false,
    };

    const model = parse('MODEL (name shop.orders); SELECT 1', defaults);

    expect(model).toMatchObject({
      kind: { name: 'VIEW', isMaterialized: false },
      dialect: 'postgres',
      cron: '@weekly',
      cronTimeZone: 'Asia/Tokyo',
      owner: 'data-team',
      start: '2023-06-01',
      end: undefined,
      intervalUnit: 'day',
      allowsPartials: true,
      isEnabled: false,
      grains: [],
      tags: [],
      columns: [],
      audits: [],
      dependsOn: [],
      description: undefined,
    });
  });

  it('lets the header override the defaults', () => {
    const defaults = { ...BUILT_IN_MODEL_DEFAULTS, owner: 'data-team', isEnabled: false };

    const model = parse("MODEL (name a.b, owner 'jen', enabled true); SELECT 1", defaults);

    expect(model.owner).toBe('jen');
    expect(model.isEnabled).toBe(true);
  });

  it('accepts both list syntaxes and trailing commas everywhere', () => {
    const model = parse(`MODEL (
      name shop.orders,
      kind INCREMENTAL_BY_UNIQUE_KEY (unique_key [id, region,],),
      tags (a, b,),
      depends_on [shop.customers,],
      audits [not_null(columns := [id,],),],
      columns (id INT,),
    ); SELECT 1`);

    expect(model.kind).toMatchObject({ uniqueKey: ['id', 'region'] });
    expect(model.tags).toEqual(['a', 'b']);
    expect(model.dependsOn).toEqual(['shop.customers']);
    expect(model.audits).toEqual([{ name: 'not_null', args: { columns: ['id'] } }]);
    expect(model.columns).toEqual([{ name: 'id', type: 'INT' }]);
  });

  it('reads single values where lists are allowed', () => {
    const model = parse(
      'MODEL (name a.b, tags finance, depends_on shop.orders, audits not_null(columns := (id)), grain id); SELECT 1',
    );

    expect(model.tags).toEqual(['finance']);
    expect(model.dependsOn).toEqual(['shop.orders']);
    expect(model.audits).toEqual([{ name: 'not_null', args: { columns: ['id'] } }]);
    expect(model.grains).toEqual(['id']);
  });

  it('reads a list of grains, each a column or a tuple of columns', () => {
    expect(parse('MODEL (name a.b, grains [(a, b), c]); SELECT 1').grains).toEqual(['a, b', 'c']);
    expect(parse('MODEL (name a.b, grains (a, (b, c))); SELECT 1').grains).toEqual(['a', 'b, c']);
    expect(parse('MODEL (name a.b, grain [a, (b, c)]); SELECT 1').grains).toEqual(['a', 'b, c']);
  });

  it('keeps audit arguments as literals, names and expressions as written', () => {
    const model = parse(`MODEL (name a.b, audits (
      forall(criteria := (amount > 0, "Order Id" IS NOT NULL)),
      number_of_rows(threshold := 10, strict := true, note := null)
    )); SELECT 1`);

    expect(model.audits).toEqual([
      { name: 'forall', args: { criteria: ['amount > 0', '"Order Id" IS NOT NULL'] } },
      { name: 'number_of_rows', args: { threshold: 10, strict: true, note: null } },
    ]);
  });

  it('normalises model names and accepts a name written as a string', () => {
    expect(parse('MODEL (name "Shop".Orders); SELECT 1').name).toBe('Shop.orders');
    expect(parse("MODEL (name 'warehouse.Shop.Orders'); SELECT 1").name).toBe(
      'warehouse.shop.orders',
    );
  });

  it('accepts a lower-case model keyword and kind names in any case', () => {
    expect(parse('model (name a.b, kind full); SELECT 1').kind).toEqual({ name: 'FULL' });
  });
});

describe('model kinds', () => {
  it('reads VIEW with and without materialized', () => {
    expect(kindOf('VIEW')).toEqual({ name: 'VIEW', isMaterialized: false });
    expect(kindOf('VIEW (materialized true)')).toEqual({ name: 'VIEW', isMaterialized: true });
  });

  it('reads FULL, EMBEDDED and EXTERNAL', () => {
    expect(kindOf('FULL')).toEqual({ name: 'FULL' });
    expect(kindOf('EMBEDDED')).toEqual({ name: 'EMBEDDED' });
    expect(parse('MODEL (name a.b, kind EXTERNAL)').kind).toEqual({ name: 'EXTERNAL' });
  });

  it('reads INCREMENTAL_BY_TIME_RANGE with a time column format and defaults', () => {
    expect(kindOf("INCREMENTAL_BY_TIME_RANGE (time_column (Order_Date, '%Y-%m-%d'))")).toEqual({
      name: 'INCREMENTAL_BY_TIME_RANGE',
      timeColumn: 'order_date',
      timeColumnFormat: '%Y-%m-%d',
      batchSize: undefined,
      lookback: 0,
      isForwardOnly: false,
    });
  });

  it('reads INCREMENTAL_BY_UNIQUE_KEY with one key or several', () => {
    expect(kindOf('INCREMENTAL_BY_UNIQUE_KEY (unique_key id, batch_size 5, lookback 1)')).toEqual({
      name: 'INCREMENTAL_BY_UNIQUE_KEY',
      uniqueKey: ['id'],
      batchSize: 5,
      lookback: 1,
      isForwardOnly: false,
    });
    expect(kindOf('INCREMENTAL_BY_UNIQUE_KEY (unique_key (id, "Region"))')).toMatchObject({
      uniqueKey: ['id', 'Region'],
    });
  });

  it('reads SCD_TYPE_2 with its defaults', () => {
    expect(kindOf('SCD_TYPE_2 (unique_key id)')).toEqual({
      name: 'SCD_TYPE_2',
      uniqueKey: ['id'],
      updatedAtName: 'updated_at',
      validFromName: 'valid_from',
      validToName: 'valid_to',
      shouldInvalidateHardDeletes: false,
      isUpdatedAtValidFrom: false,
      isForwardOnly: false,
    });
  });

  it('reads SCD_TYPE_2_BY_TIME as SCD_TYPE_2 with every parameter', () => {
    const kind = kindOf(`SCD_TYPE_2_BY_TIME (
      unique_key [id],
      updated_at_name modified_at,
      valid_from_name starts_at,
      valid_to_name ends_at,
      invalidate_hard_deletes true,
      updated_at_as_valid_from true,
      forward_only true
    )`);

    expect(kind).toEqual({
      name: 'SCD_TYPE_2',
      uniqueKey: ['id'],
      updatedAtName: 'modified_at',
      validFromName: 'starts_at',
      validToName: 'ends_at',
      shouldInvalidateHardDeletes: true,
      isUpdatedAtValidFrom: true,
      isForwardOnly: true,
    });
  });

  it('resolves a seed path against the model file and keeps the declared path', () => {
    const model = parse(
      "MODEL (name shop.countries, kind SEED (path '../../seeds/countries.csv', batch_size 100))",
    );

    expect(model.kind).toEqual({
      name: 'SEED',
      path: '/projects/shop/seeds/countries.csv',
      declaredPath: '../../seeds/countries.csv',
      batchSize: 100,
    });
    expect(model.query).toBeUndefined();
  });
});

describe('statements around the query', () => {
  it('splits pre-statements, the query and post-statements with their locations', () => {
    const model = parse(`MODEL (
  name shop.orders
);

@DEF(min_amount, 10);
CREATE TEMP TABLE t AS SELECT 1;

  WITH big AS (SELECT * FROM raw.orders WHERE amount > @min_amount)
  SELECT * FROM big;

ANALYZE shop.orders;
@IF(@runtime_stage = 'evaluating', VACUUM)
`);

    expect(model.preStatements).toEqual([
      { sql: '@DEF(min_amount, 10)', file: 'models/shop/orders.sql', line: 5, column: 1 },
      {
        sql: 'CREATE TEMP TABLE t AS SELECT 1',
        file: 'models/shop/orders.sql',
        line: 6,
        column: 1,
      },
    ]);
    expect(model.query).toEqual({
      sql: 'WITH big AS (SELECT * FROM raw.orders WHERE amount > @min_amount)\n  SELECT * FROM big',
      file: 'models/shop/orders.sql',
      line: 8,
      column: 3,
    });
    expect(model.postStatements).toEqual([
      { sql: 'ANALYZE shop.orders', file: 'models/shop/orders.sql', line: 11, column: 1 },
      {
        sql: "@IF(@runtime_stage = 'evaluating', VACUUM)",
        file: 'models/shop/orders.sql',
        line: 12,
        column: 1,
      },
    ]);
  });

  it('recognises every way a query can start, in any case', () => {
    for (const query of [
      'select 1',
      'With x AS (SELECT 1) SELECT * FROM x',
      'FROM t',
      'VALUES (1)',
      'table t',
      '(SELECT 1)',
    ]) {
      expect(parse(`MODEL (name a.b); ${query}`).query?.sql, query).toBe(query);
    }
  });

  it('does not split at semicolons inside strings or comments', () => {
    const model = parse("MODEL (name a.b);\nSELECT 'a;b' AS x -- c;d\n/* e; */ FROM t");

    expect(model.query?.sql).toBe("SELECT 'a;b' AS x -- c;d\n/* e; */ FROM t");
    expect(model.postStatements).toEqual([]);
  });

  it('keeps a leading comment with the statement it precedes', () => {
    const model = parse('MODEL (name a.b);\n\n-- the query\nSELECT 1');

    expect(model.query).toMatchObject({ sql: '-- the query\nSELECT 1', line: 3, column: 1 });
  });

  it('treats every statement of a seed model as a pre-statement', () => {
    const model = parse("MODEL (name a.b, kind SEED (path 'x.csv')); SET threads = 1");

    expect(model.preStatements.map((statement) => statement.sql)).toEqual(['SET threads = 1']);
  });
});
