import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SluiceError } from '../../../src/core/errors.js';
import type { TableName } from '../../../src/core/table-resolver.js';
import { promoteEnvironment } from '../../../src/executor/promote/promote-environment.js';
import type { PromoteTask, ViewTarget } from '../../../src/protocol/task.js';
import { enginesUnderTest, type TestEngine } from '../../helpers/engines.js';

for (const engine of enginesUnderTest()) {
  describe.skipIf(engine.skipReason !== '')(`promoting an environment on ${engine.name}`, () => {
    let testEngine: TestEngine;

    beforeAll(async () => {
      testEngine = await engine.open();
    });

    afterAll(async () => {
      await testEngine?.cleanup();
    });

    /** Each test gets its own schemas, so that environments of different tests never meet. */
    let testNumber = 0;
    function schemas() {
      testNumber += 1;
      const physical = testEngine.schema(`sluice__shop${testNumber}`);
      return {
        table: (name: string): TableName => ({ schema: physical, name }),
        view: (env: string, name: string): TableName => ({
          schema: testEngine.schema(
            env === 'prod' ? `shop${testNumber}` : `shop${testNumber}__${env}`,
          ),
          name,
        }),
      };
    }

    const quote = (table: TableName) => testEngine.adapter.quoteTable(table);

    /** A physical table holding `rows`, created with the given column definitions. */
    async function createTable(table: TableName, columns: string, rows: readonly string[] = []) {
      const { adapter } = testEngine;
      await adapter.createSchema(table.schema);
      await adapter.execute(`CREATE TABLE ${quote(table)} (${columns})`);
      if (rows.length > 0)
        await adapter.execute(`INSERT INTO ${quote(table)} VALUES ${rows.join(', ')}`);
    }

    function task(
      environment: string,
      views: readonly ViewTarget[],
      dropViews: readonly TableName[] = [],
    ): PromoteTask {
      return {
        id: `promote-${environment}`,
        runId: 'run-1',
        kind: 'promote',
        pool: 'apply',
        environment,
        executionTimeMs: Date.UTC(2024, 0, 1),
        views,
        dropViews,
      };
    }

    /** Every row of a table or view with values as text, sorted. */
    async function rowsOf(table: TableName): Promise<string[][]> {
      const result = await testEngine.adapter.query(`SELECT * FROM ${quote(table)}`);
      const columns = result.columns.map((column) => column.name);
      return result.rows.map((row) => columns.map((name) => String(row[name]))).sort();
    }

    async function columnsOf(table: TableName): Promise<string[] | undefined> {
      const columns = await testEngine.adapter.describeTable(table);
      return columns?.map((column) => column.name);
    }

    it('creates views in new schemas that read the rows of their tables', async () => {
      const at = schemas();
      await createTable(at.table('orders__v1'), 'id INTEGER, amount INTEGER', [
        '(1, 10)',
        '(2, 20)',
      ]);
      await createTable(at.table('customers__v1'), 'id INTEGER, name VARCHAR(20)', ["(7, 'ann')"]);

      const result = await promoteEnvironment(
        testEngine.adapter,
        task('prod', [
          { view: at.view('prod', 'orders'), table: at.table('orders__v1') },
          { view: at.view('prod', 'customers'), table: at.table('customers__v1') },
        ]),
      );

      expect(result).toEqual({ viewsReplaced: 2, viewsDropped: 0 });
      expect(await rowsOf(at.view('prod', 'orders'))).toEqual([
        ['1', '10'],
        ['2', '20'],
      ]);
      expect(await rowsOf(at.view('prod', 'customers'))).toEqual([['7', 'ann']]);
    });

    it('points existing views at the new versions of their tables', async () => {
      const at = schemas();
      await createTable(at.table('orders__v1'), 'id INTEGER', ['(1)']);
      await createTable(at.table('orders__v2'), 'id INTEGER', ['(2)', '(3)']);
      const view = at.view('dev', 'orders');
      await promoteEnvironment(
        testEngine.adapter,
        task('dev', [{ view, table: at.table('orders__v1') }]),
      );

      await promoteEnvironment(
        testEngine.adapter,
        task('dev', [{ view, table: at.table('orders__v2') }]),
      );

      expect(await rowsOf(view)).toEqual([['2'], ['3']]);
    });

    it('replaces a view whose table has fewer or other columns than before', async () => {
      const at = schemas();
      await createTable(at.table('items__v1'), 'id INTEGER, name VARCHAR(20), price INTEGER', [
        "(1, 'a', 5)",
      ]);
      await createTable(at.table('items__v2'), 'label TEXT, id BIGINT', ["('b', 2)"]);
      const view = at.view('dev', 'items');
      await promoteEnvironment(
        testEngine.adapter,
        task('dev', [{ view, table: at.table('items__v1') }]),
      );

      await promoteEnvironment(
        testEngine.adapter,
        task('dev', [{ view, table: at.table('items__v2') }]),
      );

      expect(await columnsOf(view)).toEqual(['label', 'id']);
      expect(await rowsOf(view)).toEqual([['b', '2']]);
    });

    it('keeps the objects built on a view when its table only gains columns', async () => {
      const at = schemas();
      await createTable(at.table('items__v1'), 'id INTEGER', ['(1)']);
      await createTable(at.table('items__v2'), 'id INTEGER, name TEXT', ["(2, 'b')"]);
      const view = at.view('prod', 'items');
      await promoteEnvironment(
        testEngine.adapter,
        task('prod', [{ view, table: at.table('items__v1') }]),
      );
      const report = at.view('prod', 'items_report');
      await testEngine.adapter.execute(
        `CREATE VIEW ${quote(report)} AS SELECT id FROM ${quote(view)}`,
      );

      await promoteEnvironment(
        testEngine.adapter,
        task('prod', [{ view, table: at.table('items__v2') }]),
      );

      expect(await rowsOf(view)).toEqual([['2', 'b']]);
      expect(await rowsOf(report)).toEqual([['2']]);
    });

    it('drops the views of models the environment no longer has', async () => {
      const at = schemas();
      await createTable(at.table('kept__v1'), 'id INTEGER');
      await createTable(at.table('gone__v1'), 'id INTEGER');
      const kept = at.view('dev', 'kept');
      const gone = at.view('dev', 'gone');
      await promoteEnvironment(
        testEngine.adapter,
        task('dev', [
          { view: kept, table: at.table('kept__v1') },
          { view: gone, table: at.table('gone__v1') },
        ]),
      );

      const result = await promoteEnvironment(
        testEngine.adapter,
        task('dev', [{ view: kept, table: at.table('kept__v1') }], [gone, at.view('dev', 'never')]),
      );

      expect(result).toEqual({ viewsReplaced: 1, viewsDropped: 2 });
      expect(await testEngine.adapter.listTables(kept.schema)).toEqual(['kept']);
      expect(await testEngine.adapter.tableExists(at.table('gone__v1'))).toBe(true);
    });

    it('leaves every old view unchanged when a statement fails part-way', async () => {
      const at = schemas();
      await createTable(at.table('a__v1'), 'id INTEGER, name TEXT', ["(1, 'a')"]);
      await createTable(at.table('a__v2'), 'code TEXT', ["('x')"]);
      await createTable(at.table('b__v1'), 'id INTEGER', ['(1)']);
      await createTable(at.table('c__v1'), 'id INTEGER', ['(3)']);
      const [a, b, c] = ['a', 'b', 'c'].map((name) => at.view('dev', name)) as [
        TableName,
        TableName,
        TableName,
      ];
      await promoteEnvironment(
        testEngine.adapter,
        task('dev', [
          { view: a, table: at.table('a__v1') },
          { view: b, table: at.table('b__v1') },
          { view: c, table: at.table('c__v1') },
        ]),
      );

      const failing = task(
        'dev',
        [
          { view: a, table: at.table('a__v2') },
          { view: b, table: at.table('b__missing') },
          { view: at.view('dev', 'd'), table: at.table('c__v1') },
        ],
        [c],
      );
      const error = await promoteEnvironment(testEngine.adapter, failing).catch((e: unknown) => e);

      expect(error).toBeInstanceOf(SluiceError);
      expect((error as SluiceError).code).toBe('table_missing');
      expect((error as SluiceError).message).toContain(`Environment 'dev' was not promoted`);
      expect((error as SluiceError).message).toContain(quote(b));
      expect((error as SluiceError).message).toContain('keeps its previous views');
      expect(await rowsOf(a)).toEqual([['1', 'a']]);
      expect(await rowsOf(b)).toEqual([['1']]);
      expect(await rowsOf(c)).toEqual([['3']]);
      expect(await testEngine.adapter.listTables(a.schema)).toEqual(['a', 'b', 'c']);
    });

    it('writes no table rows and creates no tables', async () => {
      const at = schemas();
      await createTable(at.table('orders__v1'), 'id INTEGER', ['(1)', '(2)']);
      const view = at.view('prod', 'orders');

      await promoteEnvironment(
        testEngine.adapter,
        task('prod', [{ view, table: at.table('orders__v1') }]),
      );

      expect(await rowsOf(at.table('orders__v1'))).toEqual([['1'], ['2']]);
      expect(await testEngine.adapter.listTables(at.table('x').schema)).toEqual(['orders__v1']);
      const kinds = await testEngine.adapter.query(
        'SELECT table_type FROM information_schema.tables WHERE table_schema = $1',
        [view.schema],
      );
      expect(kinds.rows).toEqual([{ table_type: 'VIEW' }]);
    });

    it('reports a cancelled promotion and keeps the old views', async () => {
      const at = schemas();
      await createTable(at.table('orders__v1'), 'id INTEGER', ['(1)']);
      await createTable(at.table('orders__v2'), 'id INTEGER', ['(2)']);
      const view = at.view('prod', 'orders');
      await promoteEnvironment(
        testEngine.adapter,
        task('prod', [{ view, table: at.table('orders__v1') }]),
      );
      const controller = new AbortController();
      controller.abort();

      const error = await promoteEnvironment(
        testEngine.adapter,
        task('prod', [{ view, table: at.table('orders__v2') }]),
        controller.signal,
      ).catch((e: unknown) => e);

      expect((error as SluiceError).code).toBe('query_cancelled');
      expect(await rowsOf(view)).toEqual([['1']]);
    });

    if (engine.name === 'postgres') {
      it('names the view and what depends on it when it cannot be dropped', async () => {
        const at = schemas();
        await createTable(at.table('items__v1'), 'id INTEGER, name TEXT', ["(1, 'a')"]);
        await createTable(at.table('items__v2'), 'name TEXT', ["('b')"]);
        await createTable(at.table('other__v1'), 'id INTEGER', ['(5)']);
        const view = at.view('prod', 'items');
        const other = at.view('prod', 'other');
        await promoteEnvironment(
          testEngine.adapter,
          task('prod', [
            { view: other, table: at.table('other__v1') },
            { view, table: at.table('items__v1') },
          ]),
        );
        const report = at.view('prod', 'items_report');
        await testEngine.adapter.execute(
          `CREATE VIEW ${quote(report)} AS SELECT id FROM ${quote(view)}`,
        );

        const error = await promoteEnvironment(
          testEngine.adapter,
          task('prod', [
            { view: other, table: at.table('items__v1') },
            { view, table: at.table('items__v2') },
          ]),
        ).catch((e: unknown) => e);

        expect((error as SluiceError).code).toBe('engine_error');
        expect((error as SluiceError).message).toContain(
          `view ${quote(view)} must be dropped and created again`,
        );
        expect((error as SluiceError).message).toContain(`depend on it (${quote(report)})`);
        expect(await rowsOf(other)).toEqual([['5']]);
        expect(await rowsOf(report)).toEqual([['1']]);
      });

      it('names the view and what depends on it when a model left the environment', async () => {
        const at = schemas();
        await createTable(at.table('items__v1'), 'id INTEGER', ['(1)']);
        const view = at.view('dev', 'items');
        await promoteEnvironment(
          testEngine.adapter,
          task('dev', [{ view, table: at.table('items__v1') }]),
        );
        const report = at.view('dev', 'items_report');
        await testEngine.adapter.execute(
          `CREATE VIEW ${quote(report)} AS SELECT id FROM ${quote(view)}`,
        );

        const error = await promoteEnvironment(testEngine.adapter, task('dev', [], [view])).catch(
          (e: unknown) => e,
        );

        expect((error as SluiceError).message).toContain(
          `view ${quote(view)} must be dropped because its model left the environment`,
        );
        expect((error as SluiceError).message).toContain(quote(report));
        expect(await rowsOf(view)).toEqual([['1']]);
      });
    }
  });
}
