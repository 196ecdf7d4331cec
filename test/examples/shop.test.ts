import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TableName, TableResolver } from '../../src/core/table-resolver.js';
import { materialize } from '../../src/executor/materialize/materialize.js';
import { renderModel } from '../../src/project/model-renderer.js';
import type { Project } from '../../src/project/project.js';
import { loadProject } from '../../src/project/project-loader.js';
import { createSqlParser, type SqlParser } from '../../src/sql/sql-parser.js';
import { enginesUnderTest, type TestEngine } from '../helpers/engines.js';

const JANUARY = {
  start: new Date('2024-01-01T00:00:00Z'),
  end: new Date('2024-01-11T00:00:00Z'),
};

/** The example project, built whole on each engine in dependency order. */
for (const engine of enginesUnderTest()) {
  const title =
    engine.skipReason === '' ? engine.name : `${engine.name} (skipped: ${engine.skipReason})`;

  describe.skipIf(engine.skipReason !== '')(`examples/shop on ${title}`, () => {
    let test: TestEngine;
    let project: Project;
    let parser: SqlParser;
    let resolver: TableResolver;

    beforeAll(async () => {
      test = await engine.open();
      project = await loadProject('examples/shop', { useCache: false });
      parser = await createSqlParser();
      resolver = { resolve: (name) => tableOf(test, name) };
      await loadRawOrders(test, project);

      for (const name of project.dag.nodes) {
        const model = project.models.get(name);
        if (model === undefined || model.kind.name === 'EXTERNAL') continue;
        const rendered = await renderModel(
          project,
          name,
          { ...JANUARY, executionTime: JANUARY.end, resolver },
          parser,
        );
        await materialize(test.adapter, {
          model,
          target: tableOf(test, name),
          rendered,
          interval: JANUARY,
          executionTime: JANUARY.end,
        });
      }
    });

    afterAll(async () => {
      await parser?.close();
      await test?.cleanup();
    });

    it('builds daily revenue per country from the embedded order lines', async () => {
      const revenue = await rows(test, 'shop.daily_revenue', 'order_date, country');
      const q = (name: string) => test.adapter.quoteTable(tableOf(test, name));
      const expected = await test.adapter.query(
        `SELECT o.order_date, c.country, COUNT(*) AS orders, SUM(o.quantity * p.unit_price) AS revenue
         FROM ${q('raw.orders')} AS o
         JOIN ${q('shop.products')} AS p ON p.product_id = o.product_id
         LEFT JOIN ${q('shop.customers')} AS c ON c.customer_id = o.customer_id
         WHERE o.quantity >= 1
         GROUP BY o.order_date, c.country
         ORDER BY o.order_date, c.country`,
      );

      expect(revenue.length).toBeGreaterThan(10);
      expect(revenue).toEqual(expected.rows);
    });

    it('keeps one current version of every customer', async () => {
      const history = await rows(test, 'shop.customer_history', 'customer_id');

      expect(history.map((row) => row.customer_id)).toEqual([1, 2, 3, 4]);
      expect(history.every((row) => row.valid_to === null)).toBe(true);
    });

    it('ranks one top customer per country', async () => {
      const top = await rows(test, 'shop.top_customers', 'country');
      const countries = top.map((row) => row.country);

      expect(new Set(countries).size).toBe(countries.length);
    });
  });
}

function tableOf(test: TestEngine, modelName: string): TableName {
  const [schema = '', name = ''] = modelName.split('.');
  return { schema: test.schema(schema), name };
}

async function loadRawOrders(test: TestEngine, project: Project) {
  const raw = project.models.get('raw.orders');
  const table = tableOf(test, 'raw.orders');
  const columns = raw?.columns ?? [];
  const definition = columns
    .map((column) => `${test.adapter.quoteIdentifier(column.name)} ${column.type}`)
    .join(', ');
  await test.adapter.createSchema(table.schema);
  await test.adapter.execute(`CREATE TABLE ${test.adapter.quoteTable(table)} (${definition})`);
  await test.adapter.loadCsvFile(
    table,
    join('examples', 'shop', 'data', 'raw_orders.csv'),
    columns.map((column) => column.name),
  );
}

async function rows(test: TestEngine, modelName: string, orderBy: string, select = '*') {
  const table = test.adapter.quoteTable(tableOf(test, modelName));
  const result = await test.adapter.query(
    `SELECT DISTINCT ${select} FROM ${table} ORDER BY ${orderBy}`,
  );
  return result.rows;
}
