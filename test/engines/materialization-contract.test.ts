import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TableName, TableResolver } from '../../src/core/table-resolver.js';
import type { Interval } from '../../src/core/time.js';
import type { EngineAdapter } from '../../src/engines/engine-adapter.js';
import { type MaterializeResult, materialize } from '../../src/executor/materialize/materialize.js';
import { renderModel } from '../../src/project/model-renderer.js';
import { loadProject } from '../../src/project/project-loader.js';
import { createSqlParser, type SqlParser } from '../../src/sql/sql-parser.js';
import { enginesUnderTest, type TestEngine } from '../helpers/engines.js';
import { writeProject } from '../helpers/temp-project.js';

const DAY_1: Interval = {
  start: new Date('2024-01-01T00:00:00Z'),
  end: new Date('2024-01-02T00:00:00Z'),
};
const DAY_2: Interval = {
  start: new Date('2024-01-02T00:00:00Z'),
  end: new Date('2024-01-03T00:00:00Z'),
};
const EXECUTION_TIME = new Date('2024-01-10T06:00:00Z');

/** One materialisation: extra project files, the interval, and so on. */
type RunOptions = {
  readonly files?: Readonly<Record<string, string>>;
  readonly interval?: Interval;
  readonly executionTime?: Date;
  readonly signal?: AbortSignal;
};

/** A table's rows with every value cast to text, sorted, so both engines compare alike. */
type TextRows = (string | null)[][];

function modelFile(name: string, kind: string, sql: string): string {
  return `MODEL (name shop.${name}, kind ${kind});\n${sql}`;
}

/** `SELECT ... FROM (VALUES ...) AS t(columns)` with the given casts applied in the select list. */
function valuesQuery(select: string, columns: string, rows: readonly string[]): string {
  return `SELECT ${select} FROM (VALUES ${rows.join(', ')}) AS t(${columns})`;
}

function sortRows(rows: TextRows): TextRows {
  const key = (row: (string | null)[]) => JSON.stringify(row);
  return [...rows].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

async function readRows(adapter: EngineAdapter, table: TableName): Promise<TextRows> {
  const columns = (await adapter.describeTable(table)) ?? [];
  const quote = (name: string) => adapter.quoteIdentifier(name);
  const select = columns.map((c) => `CAST(${quote(c.name)} AS VARCHAR) AS ${quote(c.name)}`);
  const result = await adapter.query(
    `SELECT ${select.join(', ')} FROM ${adapter.quoteTable(table)}`,
  );
  return sortRows(result.rows.map((row) => columns.map((c) => (row[c.name] ?? null) as string)));
}

for (const engine of enginesUnderTest()) {
  describe.skipIf(engine.skipReason !== '')(`materialising every kind on ${engine.name}`, () => {
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

    const config = [
      'name: test',
      'model_defaults:',
      "  start: '2024-01-01'",
      `  dialect: ${engine.name}`,
    ].join('\n');
    const resolver: TableResolver = {
      resolve: (modelName) => {
        const [schema = '', name = ''] = modelName.split('.');
        return { schema: testEngine.schema(schema), name };
      },
    };
    const shop = (name: string): TableName => ({ schema: testEngine.schema('shop'), name });
    const rowsOf = (name: string) => readRows(testEngine.adapter, shop(name));

    /** Loads a project holding `models/<name>.sql` (plus `files`) and materialises shop.<name>. */
    function run(name: string, modelSql: string, options: RunOptions = {}) {
      const files = { [`models/${name}.sql`]: modelSql, ...options.files };
      return runIn(files, name, options);
    }

    /** Loads a project of `files` and materialises shop.<name>. */
    async function runIn(
      files: Readonly<Record<string, string>>,
      name: string,
      options: RunOptions = {},
    ): Promise<MaterializeResult> {
      const root = await writeProject({ 'sluice.yaml': config, ...files });
      const project = await loadProject(root, { useCache: false });
      const model = project.models.get(`shop.${name}`);
      if (model === undefined) throw new Error(`the test project has no model shop.${name}`);
      const interval = options.interval ?? DAY_1;
      const executionTime = options.executionTime ?? EXECUTION_TIME;
      const renderOptions = { ...interval, executionTime, resolver };
      const rendered = await renderModel(project, model.name, renderOptions, parser);
      return materialize(testEngine.adapter, {
        model,
        target: shop(name),
        rendered,
        interval,
        executionTime,
        signal: options.signal,
      });
    }

    /** A view over a model's table, as an environment's view will be. */
    async function createReader(source: string, reader: string): Promise<void> {
      const { adapter } = testEngine;
      const [readerTable, sourceTable] = [shop(reader), shop(source)].map((t) =>
        adapter.quoteTable(t),
      );
      await adapter.execute(`CREATE VIEW ${readerTable} AS SELECT * FROM ${sourceTable}`);
    }

    describe('VIEW', () => {
      it('creates a view of the query and replaces it when its columns change', async () => {
        const first = valuesQuery('id, name', 'id, name', ["(1, 'a')", "(2, 'b')"]);
        await run('v_items', modelFile('v_items', 'VIEW', first));
        expect(await rowsOf('v_items')).toEqual([
          ['1', 'a'],
          ['2', 'b'],
        ]);

        const second = valuesQuery('label, id', 'id, label', ["(3, 'c')"]);
        const result = await run('v_items', modelFile('v_items', 'VIEW', second));

        expect(result.rowsWritten).toBe(0);
        expect(await rowsOf('v_items')).toEqual([['c', '3']]);
      });

      it('keeps the views that read it when its columns stay the same', async () => {
        const query = (rows: string[]) => valuesQuery('id', 'id', rows);
        await run('v_read', modelFile('v_read', 'VIEW', query(['(1)'])));
        await createReader('v_read', 'reads_v_read');

        await run('v_read', modelFile('v_read', 'VIEW', query(['(2)'])));

        expect(await rowsOf('reads_v_read')).toEqual([['2']]);
      });

      it('builds a table when the view is materialized', async () => {
        const query = valuesQuery('id', 'id', ['(1)', '(2)']);
        const result = await run('mv', modelFile('mv', 'VIEW (materialized true)', query));

        const tableType = await testEngine.adapter.query(
          'SELECT table_type FROM information_schema.tables ' +
            'WHERE table_schema = $1 AND table_name = $2',
          [testEngine.schema('shop'), 'mv'],
        );
        expect(tableType.rows).toEqual([{ table_type: 'BASE TABLE' }]);
        expect(result.rowsWritten).toBe(2);
        expect(await rowsOf('mv')).toEqual([['1'], ['2']]);
      });
    });

    describe('FULL', () => {
      it('replaces the rows on every run instead of appending', async () => {
        const first = valuesQuery('id, name', 'id, name', ["(1, 'a')", "(2, 'b')"]);
        await run('full_items', modelFile('full_items', 'FULL', first));
        await createReader('full_items', 'reads_full_items');
        const second = valuesQuery('id, name', 'id, name', ["(3, 'c')"]);
        const result = await run('full_items', modelFile('full_items', 'FULL', second));

        expect(result.rowsWritten).toBe(1);
        expect(await rowsOf('full_items')).toEqual([['3', 'c']]);
        expect(await rowsOf('reads_full_items')).toEqual([['3', 'c']]);
      });

      it('creates the table with the declared column types', async () => {
        const header =
          'MODEL (name shop.typed, kind FULL, columns (id INTEGER, amount DECIMAL(10, 2)));';
        await run('typed', `${header}\n${valuesQuery('id, amount', 'id, amount', ['(1, 5)'])}`);

        expect(await rowsOf('typed')).toEqual([['1', '5.00']]);
      });
    });

    describe('INCREMENTAL_BY_TIME_RANGE', () => {
      const kind = 'INCREMENTAL_BY_TIME_RANGE (time_column day)';
      const days = (factor: number) =>
        valuesQuery(`CAST(day AS DATE) AS day, amount * ${factor} AS amount`, 'day, amount', [
          "('2024-01-01', 1)",
          "('2024-01-02', 2)",
          "('2024-01-03', 3)",
        ]);

      it('writes only the interval and replaces it when run again, on a DATE column', async () => {
        const first = await run('by_day', modelFile('by_day', kind, days(1)), { interval: DAY_1 });
        await run('by_day', modelFile('by_day', kind, days(1)), { interval: DAY_2 });
        expect(first.rowsWritten).toBe(1);
        expect(await rowsOf('by_day')).toEqual([
          ['2024-01-01', '1'],
          ['2024-01-02', '2'],
        ]);

        const again = await run('by_day', modelFile('by_day', kind, days(10)), { interval: DAY_1 });

        expect(again.rowsWritten).toBe(1);
        expect(await rowsOf('by_day')).toEqual([
          ['2024-01-01', '10'],
          ['2024-01-02', '2'],
        ]);
      });

      it('treats the interval as half-open on a TIMESTAMP column', async () => {
        const timeKind = 'INCREMENTAL_BY_TIME_RANGE (time_column ts)';
        const query = valuesQuery('CAST(ts AS TIMESTAMP) AS ts, n', 'ts, n', [
          "('2024-01-01 00:00:00', 1)",
          "('2024-01-01 23:59:59', 2)",
          "('2024-01-02 00:00:00', 3)",
        ]);
        await run('by_ts', modelFile('by_ts', timeKind, query), { interval: DAY_1 });
        await run('by_ts', modelFile('by_ts', timeKind, query), { interval: DAY_1 });

        expect(await rowsOf('by_ts')).toEqual([
          ['2024-01-01 00:00:00', '1'],
          ['2024-01-01 23:59:59', '2'],
        ]);
      });

      it('compares a time column with a time zone as UTC, whatever the session zone', async () => {
        const zonedKind = 'INCREMENTAL_BY_TIME_RANGE (time_column ts)';
        // DuckDB connections always run in UTC (the adapter sets it); PostgreSQL's follow SET.
        const zone = engine.name === 'postgres' ? "SET LOCAL TimeZone = 'Asia/Tokyo';\n" : '';
        const query = valuesQuery('CAST(ts AS TIMESTAMPTZ) AS ts, n', 'ts, n', [
          "('2023-12-31 23:30:00+00', 1)",
          "('2024-01-01 00:00:00+00', 2)",
          "('2024-01-01 23:59:00+00', 3)",
          "('2024-01-02 00:00:00+00', 4)",
        ]);
        await run('by_tstz', modelFile('by_tstz', zonedKind, `${zone}${query}`));

        expect((await rowsOf('by_tstz')).map((row) => row[1])).toEqual(['2', '3']);
      });

      it('compares a text time column in its declared format', async () => {
        const textKind = "INCREMENTAL_BY_TIME_RANGE (time_column (ds, '%Y%m%d'))";
        const query = valuesQuery('ds, n', 'ds, n', ["('20240101', 1)", "('20240102', 2)"]);
        await run('by_text', modelFile('by_text', textKind, query), { interval: DAY_2 });

        expect(await rowsOf('by_text')).toEqual([['20240102', '2']]);
      });
    });

    describe('INCREMENTAL_BY_UNIQUE_KEY', () => {
      it('updates the rows of keys it sees again and inserts new keys', async () => {
        const kind = 'INCREMENTAL_BY_UNIQUE_KEY (unique_key id)';
        const query = (rows: string[]) => valuesQuery('id, name', 'id, name', rows);
        await run('by_key', modelFile('by_key', kind, query(["(1, 'a')", "(2, 'b')"])));
        const result = await run(
          'by_key',
          modelFile('by_key', kind, query(["(2, 'B')", "(3, 'c')"])),
        );

        expect(result.rowsWritten).toBe(2);
        expect(await rowsOf('by_key')).toEqual([
          ['1', 'a'],
          ['2', 'B'],
          ['3', 'c'],
        ]);
      });

      it('merges on a composite key', async () => {
        const kind = 'INCREMENTAL_BY_UNIQUE_KEY (unique_key (region, id))';
        const query = (rows: string[]) => valuesQuery('region, id, name', 'region, id, name', rows);
        await run(
          'by_pair',
          modelFile('by_pair', kind, query(["('eu', 1, 'a')", "('us', 1, 'b')"])),
        );
        await run(
          'by_pair',
          modelFile('by_pair', kind, query(["('us', 1, 'B')", "('eu', 2, 'c')"])),
        );

        expect(await rowsOf('by_pair')).toEqual([
          ['eu', '1', 'a'],
          ['eu', '2', 'c'],
          ['us', '1', 'B'],
        ]);
      });
    });

    describe('SCD_TYPE_2', () => {
      const columns = 'id, name, updated_at';
      const select = 'id, name, CAST(updated_at AS TIMESTAMP) AS updated_at';
      const state = (rows: string[]) => valuesQuery(select, columns, rows);
      const jan = (day: number) => `2024-01-0${day} 00:00:00`;

      it('keeps a history of changes and leaves unchanged and deleted keys current', async () => {
        const kind = 'SCD_TYPE_2 (unique_key id)';
        const scd = (rows: string[]) => run('history', modelFile('history', kind, state(rows)));
        await scd([`(1, 'a', '${jan(1)}')`, `(2, 'b', '${jan(1)}')`]);
        await scd([`(1, 'A', '${jan(5)}')`, `(2, 'b', '${jan(1)}')`, `(3, 'c', '${jan(5)}')`]);
        const expected = [
          ['1', 'A', jan(5), jan(5), null],
          ['1', 'a', jan(1), '1970-01-01 00:00:00', jan(5)],
          ['2', 'b', jan(1), '1970-01-01 00:00:00', null],
          ['3', 'c', jan(5), '1970-01-01 00:00:00', null],
        ];
        expect(await rowsOf('history')).toEqual(expected);

        const unchanged = await scd([`(1, 'A', '${jan(5)}')`, `(2, 'b', '${jan(1)}')`]);

        expect(unchanged.rowsWritten).toBe(0);
        expect(await rowsOf('history')).toEqual(expected);
      });

      it('closes deleted keys at the execution time when invalidating hard deletes', async () => {
        const kind =
          'SCD_TYPE_2 (unique_key id, invalidate_hard_deletes true, updated_at_as_valid_from true)';
        const scd = (rows: string[]) => run('deletes', modelFile('deletes', kind, state(rows)));
        await scd([`(1, 'a', '${jan(1)}')`, `(2, 'b', '${jan(2)}')`]);
        await scd([`(1, 'a', '${jan(1)}')`]);
        await scd([`(1, 'a', '${jan(1)}')`]);

        expect(await rowsOf('deletes')).toEqual([
          ['1', 'a', jan(1), jan(1), null],
          ['2', 'b', jan(2), jan(2), '2024-01-10 06:00:00'],
        ]);
      });
    });

    describe('SEED, EXTERNAL and EMBEDDED', () => {
      it('loads a seed from its CSV file', async () => {
        const result = await run(
          'seeded',
          "MODEL (name shop.seeded, kind SEED (path '../seeds/seeded.csv'));",
          { files: { 'seeds/seeded.csv': 'id,name\n1,a\n2,b\n' } },
        );

        expect(result.rowsWritten).toBe(2);
        expect(await rowsOf('seeded')).toEqual([
          ['1', 'a'],
          ['2', 'b'],
        ]);
      });

      it('accepts an external table that exists and names one that does not', async () => {
        const { adapter } = testEngine;
        await adapter.createSchema(testEngine.schema('shop'));
        await adapter.execute(`CREATE TABLE ${adapter.quoteTable(shop('present'))} (id INTEGER)`);
        const files = { 'external_models.yaml': '- name: shop.present\n- name: shop.absent\n' };

        await expect(runIn(files, 'present')).resolves.toMatchObject({ rowsWritten: 0 });
        await expect(runIn(files, 'absent')).rejects.toMatchObject({
          code: 'table_missing',
          message: expect.stringMatching(/^Model 'shop\.absent' .*external_models\.yaml/),
        });
      });

      it('inlines an embedded model where it is read and builds no table for it', async () => {
        const embedded = modelFile(
          'recent',
          'EMBEDDED',
          valuesQuery('id', 'id', ['(1)', '(2)', '(3)']),
        );
        const files = { 'models/recent.sql': embedded };
        const reader = modelFile(
          'reads_recent',
          'FULL',
          'SELECT id * 10 AS id FROM shop.recent WHERE id > 1',
        );

        await run('reads_recent', reader, { files });
        const own = await run('recent', embedded);

        expect(await rowsOf('reads_recent')).toEqual([['20'], ['30']]);
        expect(own.rowsWritten).toBe(0);
        expect(await testEngine.adapter.tableExists(shop('recent'))).toBe(false);
      });
    });

    describe('failures leave the target as it was', () => {
      const select =
        'id, CAST(day AS DATE) AS day, CAST(updated_at AS TIMESTAMP) AS updated_at, ' +
        'CAST(amount AS INTEGER) AS amount';
      const rows = (secondAmount: string) =>
        valuesQuery(select, 'id, day, updated_at, amount', [
          "(1, '2024-01-01', '2024-01-01', '10')",
          `(2, '2024-01-01', '2024-01-02', '${secondAmount}')`,
          "(3, '2024-01-01', '2024-01-02', '30')",
        ]);
      const kinds = [
        ['FULL', 'FULL'],
        ['INCREMENTAL_BY_TIME_RANGE', 'INCREMENTAL_BY_TIME_RANGE (time_column day)'],
        ['INCREMENTAL_BY_UNIQUE_KEY', 'INCREMENTAL_BY_UNIQUE_KEY (unique_key id)'],
        ['SCD_TYPE_2', 'SCD_TYPE_2 (unique_key id)'],
      ] as const;

      it.each(kinds)('keeps %s rows when the query fails part-way', async (label, kind) => {
        const name = `failing_${label.toLowerCase()}`;
        await run(name, modelFile(name, kind, rows('20')));
        const before = await rowsOf(name);

        await expect(run(name, modelFile(name, kind, rows('x')))).rejects.toMatchObject({
          code: 'engine_error',
          message: expect.stringMatching(new RegExp(`^Model 'shop\\.${name}': `)),
        });
        expect(before).toHaveLength(3);
        expect(await rowsOf(name)).toEqual(before);
      });

      it('rolls back the rows written when a post-statement fails', async () => {
        const post = `${rows('20')};\nUPDATE @this_model SET amount = CAST('x' AS INTEGER)`;
        await run('failing_post', modelFile('failing_post', 'FULL', rows('5')));
        const before = await rowsOf('failing_post');

        await expect(run('failing_post', modelFile('failing_post', 'FULL', post))).rejects.toThrow(
          /^Model 'shop\.failing_post': /,
        );
        expect(await rowsOf('failing_post')).toEqual(before);
      });

      it.each([
        ['INCREMENTAL_BY_UNIQUE_KEY', 'INCREMENTAL_BY_UNIQUE_KEY (unique_key key)'],
        ['SCD_TYPE_2', 'SCD_TYPE_2 (unique_key key)'],
      ])('rejects %s rows that repeat a key, giving counts not values', async (label, kind) => {
        const name = `repeats_${label.toLowerCase()}`;
        const query = (keys: string[]) =>
          valuesQuery('key, CAST(ts AS TIMESTAMP) AS updated_at', 'key, ts', keys);
        await run(name, modelFile(name, kind, query(["('k-1', '2024-01-01')"])));
        const before = await rowsOf(name);

        const repeated = query([
          "('k-17', '2024-01-02')",
          "('k-17', '2024-01-03')",
          "('k-2', '2024-01-02')",
        ]);
        const failure = run(name, modelFile(name, kind, repeated));

        await expect(failure).rejects.toMatchObject({
          code: 'unique_key_violation',
          message: expect.stringMatching(
            new RegExp(`^Model 'shop\\.${name}' returned 1 value of its unique_key \\(key\\)`),
          ),
        });
        await expect(failure).rejects.toThrow(/make the query return one row per key/);
        await expect(failure).rejects.not.toThrow(/k-17/);
        expect(await rowsOf(name)).toEqual(before);
      });

      it('rejects new rows whose unique key is NULL', async () => {
        const kind = 'INCREMENTAL_BY_UNIQUE_KEY (unique_key (a, b))';
        const query = valuesQuery('a, b', 'a, b', ['(1, 1)', '(2, NULL)']);

        await expect(run('null_key', modelFile('null_key', kind, query))).rejects.toMatchObject({
          code: 'unique_key_violation',
          message: expect.stringContaining('returned 1 row whose unique_key (a, b) is NULL'),
        });
        expect(await testEngine.adapter.tableExists(shop('null_key'))).toBe(false);
      });

      it('reports a declared type the engine rejects and creates nothing', async () => {
        const header = 'MODEL (name shop.bad_type, kind FULL, columns (id INTEGR));';

        await expect(run('bad_type', `${header}\nSELECT 1 AS id`)).rejects.toMatchObject({
          code: 'engine_type_rejected',
          message: expect.stringMatching(/^Model 'shop\.bad_type': .*integr/i),
        });
        expect(await testEngine.adapter.tableExists(shop('bad_type'))).toBe(false);
      });

      it('stops a slow query when cancelled and keeps the rows', async () => {
        await run('slow', modelFile('slow', 'FULL', 'SELECT 1 AS n'));
        const slowQuery =
          engine.name === 'duckdb'
            ? 'SELECT COUNT(*) AS n FROM range(100000) AS a(x), range(100000) AS b(y) ' +
              'WHERE a.x + b.y = 7'
            : 'SELECT 2 AS n FROM pg_sleep(30)';
        const controller = new AbortController();
        setTimeout(() => controller.abort(), 300);

        const failure = run('slow', modelFile('slow', 'FULL', slowQuery), {
          signal: controller.signal,
        });

        await expect(failure).rejects.toMatchObject({ code: 'query_cancelled' });
        expect(await rowsOf('slow')).toEqual([['1']]);
      });
    });
  });
}
