import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TableName } from '../../../src/core/table-resolver.js';
import { materialize } from '../../../src/executor/materialize/materialize.js';
import { renderModel } from '../../../src/project/model-renderer.js';
import { loadProject } from '../../../src/project/project-loader.js';
import { createSqlParser, type SqlParser } from '../../../src/sql/sql-parser.js';
import { enginesUnderTest, type TestEngine } from '../../helpers/engines.js';
import { writeProject } from '../../helpers/temp-project.js';

/**
 * Two attempts of one task writing the same interval at once, as when an Executor paused past its
 * lease resumes while another runs the task again: on PostgreSQL the attempt that starts later
 * ends the session of the one holding the interval, and the interval ends with one set of rows.
 * Each attempt's query sleeps, so that both are inside their write transactions together.
 */

const postgres = enginesUnderTest().find((engine) => engine.name === 'postgres');
const INTERVAL = { start: new Date('2024-01-01T00:00:00Z'), end: new Date('2024-01-03T00:00:00Z') };

/** Resolves once a session of the test server holds an advisory lock. */
async function waitForHolder(engine: TestEngine): Promise<void> {
  for (;;) {
    const held = await engine.adapter.query(
      "SELECT COUNT(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND granted",
    );
    if (Number(held.rows[0]?.n) > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe.skipIf(postgres === undefined || postgres.skipReason !== '')(
  'two attempts writing one interval on postgres',
  () => {
    let engine: TestEngine;
    let parser: SqlParser;

    beforeAll(async () => {
      engine = await (postgres as NonNullable<typeof postgres>).open();
      parser = await createSqlParser();
    });

    afterAll(async () => {
      await engine?.cleanup();
      await parser?.close();
    });

    async function attempt(target: TableName, root: string): Promise<number> {
      const project = await loadProject(root, { useCache: false });
      const model = project.models.get('shop.daily');
      if (model === undefined) throw new Error('the test project has no model shop.daily');
      const executionTime = new Date('2024-01-10T00:00:00Z');
      const resolver = { resolve: () => target };
      const rendered = await renderModel(
        project,
        model.name,
        { ...INTERVAL, executionTime, resolver },
        parser,
      );
      const written = await materialize(engine.adapter, {
        model,
        target,
        rendered,
        interval: INTERVAL,
        executionTime,
      });
      return written.rowsWritten;
    }

    it('leaves one set of rows when both write the interval at the same time', async () => {
      const target = { schema: engine.schema('shop'), name: 'daily' };
      const root = await writeProject({
        'sluice.yaml': "name: test\nmodel_defaults:\n  start: '2024-01-01'\n  dialect: postgres\n",
        'models/daily.sql': `MODEL (name shop.daily, kind INCREMENTAL_BY_TIME_RANGE (time_column day));
SELECT CAST(t.day AS DATE) AS day, t.amount
FROM (VALUES ('2024-01-01', 1), ('2024-01-02', 2)) AS t(day, amount)
CROSS JOIN (SELECT pg_sleep(0.5)) AS pause
WHERE CAST(t.day AS DATE) BETWEEN @start_ds AND @end_ds
`,
      });

      const first = attempt(target, root).then(
        () => 'written',
        (error: unknown) => error,
      );
      await waitForHolder(engine);
      const second = await attempt(target, root);

      expect(second).toBe(2);
      expect(await first).toMatchObject({ code: 'engine_unreachable' });
      const rows = await engine.adapter.query(
        `SELECT CAST(day AS TEXT) AS day, amount FROM ${engine.adapter.quoteTable(target)} ` +
          'ORDER BY day',
      );
      expect(rows.rows).toEqual([
        { day: '2024-01-01', amount: 1 },
        { day: '2024-01-02', amount: 2 },
      ]);
    });
  },
);
