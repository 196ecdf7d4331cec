import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SluiceError } from '../../../src/core/errors.js';
import type { TableName, TableResolver } from '../../../src/core/table-resolver.js';
import { createTarget } from '../../../src/executor/materialize/create-target.js';
import { materialize } from '../../../src/executor/materialize/materialize.js';
import { renderModel } from '../../../src/project/model-renderer.js';
import { loadProject } from '../../../src/project/project-loader.js';
import { createSqlParser, type SqlParser } from '../../../src/sql/sql-parser.js';
import { enginesUnderTest, type TestEngine } from '../../helpers/engines.js';
import { writeProject } from '../../helpers/temp-project.js';

const INTERVAL = { start: new Date('2024-01-01T00:00:00Z'), end: new Date('2024-01-02T00:00:00Z') };
const EXECUTION_TIME = new Date('2024-01-10T06:00:00Z');

for (const engine of enginesUnderTest()) {
  describe.skipIf(engine.skipReason !== '')(`creating a version's table on ${engine.name}`, () => {
    let testEngine: TestEngine;
    let parser: SqlParser;

    beforeAll(async () => {
      testEngine = await engine.open();
      parser = await createSqlParser();
    });

    afterAll(async () => {
      await testEngine?.cleanup();
      await parser?.close();
    });

    const config = `name: test\nmodel_defaults:\n  start: '2024-01-01'\n  dialect: ${engine.name}\n`;
    const resolver: TableResolver = { resolve: () => undefined };
    const shop = (name: string): TableName => ({ schema: testEngine.schema('shop'), name });
    const decimal = engine.name === 'duckdb' ? 'DECIMAL(10,2)' : 'NUMERIC(10,2)';

    /** Loads shop.<name> from a model file and renders it, with `@this` schema for the target. */
    async function requestFor(name: string, header: string, query: string) {
      const files = { 'sluice.yaml': config, [`models/${name}.sql`]: `${header};\n${query}` };
      const project = await loadProject(await writeProject(files), { useCache: false });
      const model = project.models.get(`shop.${name}`);
      if (model === undefined) throw new Error(`the test project has no model shop.${name}`);
      const renderOptions = { ...INTERVAL, executionTime: EXECUTION_TIME, resolver };
      const rendered = await renderModel(project, model.name, renderOptions, parser);
      return {
        model,
        target: shop(name),
        rendered,
        interval: INTERVAL,
        executionTime: EXECUTION_TIME,
      };
    }

    function create(name: string, header: string, query: string, isForwardOnly: boolean) {
      return requestFor(name, header, query).then((request) =>
        createTarget(testEngine.adapter, request, { isForwardOnly }),
      );
    }

    async function describeColumns(name: string): Promise<string[]> {
      const columns = (await testEngine.adapter.describeTable(shop(name))) ?? [];
      return columns.map((column) => `${column.name} ${column.type}`);
    }

    async function rowsOf(name: string): Promise<string[][]> {
      const result = await testEngine.adapter.query(
        `SELECT * FROM ${testEngine.adapter.quoteTable(shop(name))}`,
      );
      const columns = result.columns.map((column) => column.name);
      return result.rows.map((row) => columns.map((column) => String(row[column]))).sort();
    }

    const full = (name: string) => `MODEL (name shop.${name}, kind FULL)`;
    const v1 = "SELECT CAST(1 AS INTEGER) AS id, CAST('a' AS VARCHAR(10)) AS name";
    const v2 = `${v1}, CAST(2.5 AS DECIMAL(10, 2)) AS price, CAST(NULL AS DATE) AS "Shipped On"`;

    it('creates an empty table with the shape of the query', async () => {
      const result = await create('fresh', full('fresh'), v1, true);

      expect(result.rowsWritten).toBe(0);
      expect((await describeColumns('fresh')).map((column) => column.split(' ')[0])).toEqual([
        'id',
        'name',
      ]);
      expect(await rowsOf('fresh')).toEqual([]);
    });

    it('keeps an existing table as it is when the version is not forward-only', async () => {
      await create('kept', full('kept'), v1, false);
      const before = await describeColumns('kept');

      await create('kept', full('kept'), v2, false);

      expect(await describeColumns('kept')).toEqual(before);
    });

    it('adds the columns a forward-only query gained, with the types the engine gives', async () => {
      await create('grown', full('grown'), v1, false);
      await materialize(testEngine.adapter, await requestFor('grown', full('grown'), v1));
      const reader = testEngine.adapter.quoteTable(shop('grown_reader'));
      const table = testEngine.adapter.quoteTable(shop('grown'));
      await testEngine.adapter.execute(`CREATE VIEW ${reader} AS SELECT * FROM ${table}`);

      await create('grown', full('grown'), v2, true);

      const columns = await describeColumns('grown');
      expect(columns.slice(2)).toEqual([`price ${decimal}`, 'Shipped On DATE']);
      expect(await rowsOf('grown')).toEqual([['1', 'a', 'null', 'null']]);
      // A view over the table still reads it; DuckDB expands its `*` when read, PostgreSQL when
      // the view was created, so only the old columns are compared.
      expect((await rowsOf('grown_reader')).map((row) => row.slice(0, 2))).toEqual([['1', 'a']]);
      await materialize(testEngine.adapter, await requestFor('grown', full('grown'), v2));
      expect(await rowsOf('grown')).toEqual([['1', 'a', '2.5', 'null']]);
    });

    it('adds nothing when a forward-only query has the columns of the table', async () => {
      await create('same', full('same'), v1, false);
      const before = await describeColumns('same');

      await create('same', full('same'), `SELECT name, id FROM (${v1}) AS reordered`, true);

      expect(await describeColumns('same')).toEqual(before);
    });

    it('refuses a forward-only query that drops a column of the table', async () => {
      await create('shrunk', full('shrunk'), v2, false);
      const before = await describeColumns('shrunk');

      const error = await create('shrunk', full('shrunk'), v1, true).catch((e: unknown) => e);

      expect(error).toBeInstanceOf(SluiceError);
      expect((error as SluiceError).code).toBe('model_query_invalid');
      expect((error as SluiceError).message).toMatch(
        /^Model 'shop\.shrunk' is planned as forward-only, but its query no longer returns column 'price'/,
      );
      expect((error as SluiceError).message).toContain('without --forward-only');
      expect(await describeColumns('shrunk')).toEqual(before);
    });

    it('refuses a forward-only query that changes the type of a column', async () => {
      await create('retyped', full('retyped'), v1, false);
      const before = await describeColumns('retyped');
      const query = `SELECT CAST(1 AS BIGINT) AS id, CAST('a' AS VARCHAR(10)) AS name, 1 AS added`;

      const error = await create('retyped', full('retyped'), query, true).catch((e: unknown) => e);

      expect((error as SluiceError).code).toBe('model_query_invalid');
      expect((error as SluiceError).message).toContain(
        "its query returns column 'id' as BIGINT, where its table",
      );
      expect((error as SluiceError).message).toContain('has INTEGER');
      expect(await describeColumns('retyped')).toEqual(before);
    });

    it('keeps the validity columns of an SCD type 2 table when adding columns', async () => {
      const header = (name: string) =>
        `MODEL (name shop.${name}, kind SCD_TYPE_2 (unique_key id, updated_at_name updated_at))`;
      const query = 'SELECT 1 AS id, CAST(NULL AS TIMESTAMP) AS updated_at';
      await create('history', header('history'), query, false);

      await create('history', header('history'), `${query}, 'x' AS note`, true);

      expect((await describeColumns('history')).map((column) => column.split(' ')[0])).toEqual([
        'id',
        'updated_at',
        'valid_from',
        'valid_to',
        'note',
      ]);
    });

    it('adds a declared column to a forward-only table', async () => {
      const header = (columns: string) =>
        `MODEL (name shop.declared, kind FULL, columns (${columns}))`;
      await create('declared', header('id INTEGER'), 'SELECT 1 AS id', false);

      await create('declared', header('id INTEGER, total DECIMAL(10, 2)'), 'SELECT 1 AS id', true);

      expect(await describeColumns('declared')).toEqual(['id INTEGER', `total ${decimal}`]);
    });
  });
}
