import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SluiceError } from '../../../src/core/errors.js';
import type { TableName } from '../../../src/core/table-resolver.js';
import { runCleanup } from '../../../src/executor/cleanup/run-cleanup.js';
import type { CleanupTask, DropTarget } from '../../../src/protocol/task.js';
import { enginesUnderTest, type TestEngine } from '../../helpers/engines.js';

/** The cleanup task on both engines: drops, order, idempotence, failures and empty schemas. */

function taskOf(drops: readonly DropTarget[]): CleanupTask {
  return { id: 't1', runId: 'r1', kind: 'cleanup', pool: 'run', executionTimeMs: 0, drops };
}

describe.each(enginesUnderTest())('cleanup tasks on $name', (engine) => {
  let test: TestEngine;
  const table = (schema: string, name: string): TableName => ({
    schema: test.schema(schema),
    name,
  });
  const quoted = (target: TableName) => test.adapter.quoteTable(target);
  const schemaExists = async (schema: string) => {
    const result = await test.adapter.query(
      'SELECT COUNT(*) AS n FROM information_schema.schemata WHERE schema_name = $1',
      [schema],
    );
    return Number(result.rows[0]?.n) > 0;
  };
  const makeTable = async (target: TableName) => {
    await test.adapter.createSchema(target.schema);
    await test.adapter.execute(`CREATE TABLE ${quoted(target)} AS SELECT 1 AS id`);
  };
  const makeView = async (target: TableName, from: TableName) => {
    await test.adapter.createSchema(target.schema);
    await test.adapter.execute(`CREATE VIEW ${quoted(target)} AS SELECT * FROM ${quoted(from)}`);
  };

  beforeAll(async () => {
    if (engine.skipReason === '') test = await engine.open();
  });
  afterAll(async () => {
    if (engine.skipReason === '') await test.cleanup();
  });

  it.skipIf(engine.skipReason !== '')(
    'drops views before the tables they select from, then their emptied schemas',
    async () => {
      const physical = table('sluice__a', 'a__orders__v1');
      const view = table('a__dev', 'orders');
      await makeTable(physical);
      await makeView(view, physical);

      const result = await runCleanup(
        test.adapter,
        taskOf([
          { table: physical, isView: false },
          { table: view, isView: true },
        ]),
      );

      expect(result).toEqual({ dropped: 2 });
      expect(await test.adapter.tableExists(physical)).toBe(false);
      expect(await test.adapter.tableExists(view)).toBe(false);
      expect(await schemaExists(physical.schema)).toBe(false);
      expect(await schemaExists(view.schema)).toBe(false);
    },
  );

  it.skipIf(engine.skipReason !== '')(
    'keeps a schema that still holds other tables, and one whose name Sluice did not make',
    async () => {
      const dropped = table('sluice__b', 'b__old__v1');
      const kept = table('sluice__b', 'b__new__v2');
      const own = table('plain', 'scratch');
      await makeTable(dropped);
      await makeTable(kept);
      await makeTable(own);

      await runCleanup(
        test.adapter,
        taskOf([
          { table: dropped, isView: false },
          { table: own, isView: false },
        ]),
      );

      expect(await test.adapter.tableExists(dropped)).toBe(false);
      expect(await test.adapter.tableExists(kept)).toBe(true);
      expect(await schemaExists(kept.schema)).toBe(true);
      expect(await schemaExists(own.schema)).toBe(true);
    },
  );

  it.skipIf(engine.skipReason !== '')(
    'succeeds again when what it drops is already gone',
    async () => {
      const gone = table('sluice__c', 'c__gone__v1');
      const task = taskOf([
        { table: gone, isView: false },
        { table: table('c__dev', 'gone'), isView: true },
      ]);

      expect(await runCleanup(test.adapter, task)).toEqual({ dropped: 2 });
      expect(await runCleanup(test.adapter, task)).toEqual({ dropped: 2 });
    },
  );

  it.skipIf(engine.skipReason !== '')(
    'runs every drop when one fails, and names the object that failed',
    async () => {
      const notAView = table('sluice__d', 'd__orders__v1');
      const other = table('sluice__d', 'd__items__v1');
      await makeTable(notAView);
      await makeTable(other);

      const error = await runCleanup(
        test.adapter,
        taskOf([
          { table: notAView, isView: true },
          { table: other, isView: false },
        ]),
      ).catch((caught: unknown) => caught);

      expect(error).toBeInstanceOf(SluiceError);
      expect((error as SluiceError).code).toBe('engine_error');
      expect((error as SluiceError).message).toContain(`'${notAView.schema}.${notAView.name}'`);
      expect((error as SluiceError).message).toContain('Could not drop 1 of 2 objects');
      expect(await test.adapter.tableExists(notAView)).toBe(true);
      expect(await test.adapter.tableExists(other)).toBe(false);
      expect(await schemaExists(notAView.schema)).toBe(true);
    },
  );
});
