import { appendFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveStateContext } from '../../src/cli/state-context.js';
import type { TableName } from '../../src/core/table-resolver.js';
import { openState } from '../../src/state/open-state.js';
import type { StateStore } from '../../src/state/state-store.js';
import { enginesUnderTest } from '../helpers/engines.js';
import { type RunProject, writeRunProject } from '../helpers/run-project.js';
import { runCli } from '../helpers/temp-project.js';

/**
 * The janitor end to end through the CLI on both engines: an expired environment loses its views
 * and its row, a table only it used is dropped once unused for `table_ttl`, and nothing prod
 * holds or keeps for rollback is touched.
 */

const CUSTOMERS = `MODEL (name {s}.customers, kind SEED (path '../seeds/customers.csv'));\n`;

const TOTALS = (expression: string) => `MODEL (name {s}.totals, kind FULL);

SELECT ${expression} AS people FROM {s}.customers
`;

const NAMES = (expression: string) => `MODEL (name {s}.names, kind VIEW);

SELECT ${expression} AS name FROM {s}.customers
`;

const HOUR_MS = 3_600_000;

describe.each(enginesUnderTest())('the janitor on $name', (engine) => {
  let project: RunProject;
  /** Physical tables by `<model>@<environment>`, read before anything is dropped. */
  const tables = new Map<string, TableName>();
  const cli = (...args: string[]) => runCli('--project', project.root, ...args);
  const write = (file: string, text: string) =>
    writeFile(join(project.root, file), text.replaceAll('{s}', project.schema));
  const tableOf = async (model: string, environment: string): Promise<TableName> => {
    const result = await cli('table-name', `${project.schema}.${model}`, '--env', environment);
    const [schema = '', name = ''] = result.stdout.trim().split('.');
    return { schema, name };
  };
  const withAdapter = async <T>(
    work: (adapter: Awaited<ReturnType<RunProject['openEngine']>>) => Promise<T>,
  ) => {
    const adapter = await project.openEngine();
    try {
      return await work(adapter);
    } finally {
      await adapter.close();
    }
  };
  const exists = (table: TableName) => withAdapter((adapter) => adapter.tableExists(table));
  const rowsOf = (schema: string, view: string) =>
    withAdapter(async (adapter) => (await adapter.query(`SELECT * FROM ${schema}.${view}`)).rows);
  const withStore = async <T>(work: (store: StateStore) => Promise<T>) => {
    const state = await resolveStateContext(project.root, {});
    const store = await openState({ ...state, shouldMigrate: false });
    try {
      return await work(store);
    } finally {
      await store.close();
    }
  };
  const unusedSince = (versionTable: TableName) =>
    withStore(async (store) => {
      const row = await store.db
        .selectFrom('sluice_versions')
        .select(['unused_since', 'table_created_at'])
        .where('physical_name', '=', versionTable.name)
        .executeTakeFirstOrThrow();
      return { unusedSince: row.unused_since, tableCreatedAt: row.table_created_at };
    });
  /** Pretends every unused mark was set `ms` ago, as if the janitor had seen them then. */
  const ageUnusedMarks = (ms: number) =>
    withStore((store) =>
      store.db
        .updateTable('sluice_versions')
        .set({ unused_since: new Date(Date.now() - ms).toISOString() })
        .where('table_created_at', 'is not', null)
        .execute(),
    );

  beforeAll(async () => {
    if (engine.skipReason !== '') return;
    project = await writeRunProject(engine.name, {
      'seeds/customers.csv': 'id,name\n1,Ada\n2,Grace\n',
      'models/customers.sql': CUSTOMERS,
      'models/totals.sql': TOTALS('COUNT(*)'),
      'models/names.sql': NAMES('name'),
    });
    await appendFile(join(project.root, 'sluice.yaml'), 'table_ttl: 1 hour\n');
  });
  afterAll(async () => {
    if (engine.skipReason === '') await project.cleanup();
  });

  it.skipIf(engine.skipReason !== '')(
    'has nothing to drop while every environment is live',
    async () => {
      expect((await cli('plan', '--auto-apply')).code).toBe(0);
      await write('models/totals.sql', TOTALS('COUNT(*) * 10'));
      await write('models/names.sql', NAMES('UPPER(name)'));
      expect((await cli('plan', 'dev', '--auto-apply')).code).toBe(0);
      for (const model of ['customers', 'totals', 'names']) {
        tables.set(`${model}@prod`, await tableOf(model, 'prod'));
        tables.set(`${model}@dev`, await tableOf(model, 'dev'));
      }

      const result = await cli('janitor');

      expect(result.code).toBe(0);
      expect(result.stdout).toContain('Nothing to clean up');
      expect(tables.get('customers@dev')).toEqual(tables.get('customers@prod'));
      expect(tables.get('totals@dev')).not.toEqual(tables.get('totals@prod'));
      expect(tables.get('names@dev')).not.toEqual(tables.get('names@prod'));
    },
  );

  it.skipIf(engine.skipReason !== '')(
    'shows what it would drop with --dry-run and changes nothing',
    async () => {
      expect((await cli('invalidate', 'dev')).code).toBe(0);

      const result = await cli('janitor', '--dry-run');

      expect(result.code).toBe(0);
      expect(result.stdout).toContain('Expired environments (1):\n  dev: would drop 3 views');
      expect(result.stdout).toMatch(
        /Unused tables kept until unused for 1 hour \(2\):\n.*\.names .*\n.*\.totals/,
      );
      expect(result.stdout).toContain('Dry run: nothing was changed.');
      expect((await cli('environments')).stdout).toContain('dev');
      expect(await rowsOf(`${project.schema}__dev`, 'totals')).toEqual([{ people: 20 }]);
      const totals = tables.get('totals@dev') as TableName;
      expect(await unusedSince(totals)).toEqual({
        unusedSince: null,
        tableCreatedAt: expect.any(String),
      });
    },
  );

  it.skipIf(engine.skipReason !== '')(
    "drops an expired environment's views and row, leaving prod and the tables",
    async () => {
      const result = await cli('janitor');

      expect(result.code).toBe(0);
      expect(result.stdout).toContain('dev: dropped 3 views');
      expect((await cli('environments')).stdout).not.toContain('dev');
      for (const view of ['customers', 'totals', 'names']) {
        expect(await exists({ schema: `${project.schema}__dev`, name: view })).toBe(false);
        expect(await exists({ schema: project.schema, name: view })).toBe(true);
      }
      const totals = tables.get('totals@dev') as TableName;
      expect(await exists(totals)).toBe(true);
      expect((await unusedSince(totals)).unusedSince).toEqual(expect.any(String));
      expect(await rowsOf(project.schema, 'totals')).toEqual([{ people: 2 }]);
    },
  );

  it.skipIf(engine.skipReason !== '')(
    'drops a table unused for the TTL and never one that prod shares',
    async () => {
      await ageUnusedMarks(2 * HOUR_MS);

      const result = await cli('janitor');

      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/Unused tables \(2\):\n.*\.names version .*: dropped\n/);
      expect(result.stdout).toMatch(/\.totals version .*: dropped\n/);
      for (const model of ['totals', 'names']) {
        const unused = tables.get(`${model}@dev`) as TableName;
        expect(await exists(unused)).toBe(false);
        expect(await unusedSince(unused)).toEqual({ unusedSince: null, tableCreatedAt: null });
      }
      for (const model of ['customers', 'totals', 'names']) {
        const kept = tables.get(`${model}@prod`) as TableName;
        expect(await exists(kept)).toBe(true);
        expect((await unusedSince(kept)).unusedSince).toBeNull();
      }
      expect(await rowsOf(project.schema, 'names')).toHaveLength(2);
    },
  );

  it.skipIf(engine.skipReason !== '')(
    'rebuilds a dropped table when a later plan needs its version again',
    async () => {
      const result = await cli('plan', '--auto-apply');

      expect(result.code).toBe(0);
      expect(await tableOf('totals', 'prod')).toEqual(tables.get('totals@dev'));
      expect(await tableOf('names', 'prod')).toEqual(tables.get('names@dev'));
      expect(await rowsOf(project.schema, 'totals')).toEqual([{ people: 20 }]);
      expect(await rowsOf(project.schema, 'names')).toEqual(
        expect.arrayContaining([{ name: 'ADA' }, { name: 'GRACE' }]),
      );
    },
  );

  it.skipIf(engine.skipReason !== '')(
    'keeps a version prod holds for rollback, however long it looks unused',
    async () => {
      await ageUnusedMarks(10 * HOUR_MS);

      const result = await cli('janitor');

      expect(result.code).toBe(0);
      const previous = tables.get('totals@prod') as TableName;
      expect(await exists(previous)).toBe(true);
      expect((await unusedSince(previous)).unusedSince).toBeNull();
      expect((await cli('rollback', 'prod')).code).toBe(0);
      expect(await rowsOf(project.schema, 'totals')).toEqual([{ people: 2 }]);
    },
  );
});
