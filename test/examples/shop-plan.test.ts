import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngineAdapter } from '../../src/engines/create-engine-adapter.js';
import type { EngineAdapter } from '../../src/engines/engine-adapter.js';
import { loadProject } from '../../src/project/project-loader.js';
import { enginesUnderTest, postgresTestSettings } from '../helpers/engines.js';
import { runCli } from '../helpers/temp-project.js';

/**
 * The example project planned and applied to prod through the CLI on each engine, as the
 * quickstart does on DuckDB. The copy's schemas get a private prefix (`shop` becomes
 * `e1a2b3c4_shop`), so runs never meet on the shared PostgreSQL server.
 */

describe.each(enginesUnderTest())('examples/shop planned to prod on $name', (engine) => {
  const prefix = `e${randomBytes(4).toString('hex')}`;
  let root: string;

  const openEngine = (): Promise<EngineAdapter> =>
    createEngineAdapter({
      gateway: 'test',
      type: engine.name,
      settings:
        engine.name === 'duckdb'
          ? { database: join(root, '.sluice', 'shop.duckdb') }
          : postgresTestSettings(),
      baseDir: root,
    });

  beforeAll(async () => {
    if (engine.skipReason !== '') return;
    root = await copyExample(prefix, engine.name === 'postgres' ? 'warehouse' : 'local');
    await loadRawOrders(root, prefix, openEngine);
  });
  afterAll(async () => {
    if (engine.skipReason !== '' || engine.name !== 'postgres') return;
    const adapter = await openEngine();
    try {
      const schemas = await adapter.query(
        'SELECT nspname AS name FROM pg_namespace WHERE nspname LIKE $1 OR nspname LIKE $2',
        [`${prefix}_%`, `sluice__${prefix}_%`],
      );
      for (const row of schemas.rows) {
        await adapter.execute(`DROP SCHEMA ${adapter.quoteIdentifier(String(row.name))} CASCADE`);
      }
    } finally {
      await adapter.close();
    }
  });

  it.skipIf(engine.skipReason !== '')(
    'builds every model, serves them through views, and has nothing left to do',
    async () => {
      const applied = await runCli('--project', root, 'plan', '--auto-apply');
      expect(applied.stderr.split('\n').filter((line) => line.startsWith('error'))).toEqual([]);
      expect(applied.code).toBe(0);
      expect(applied.stdout).toContain("Applied: environment 'prod' is at revision 1.");

      const adapter = await openEngine();
      try {
        const top = await adapter.query(
          `SELECT country, name FROM ${prefix}_shop.top_customers ORDER BY country`,
        );
        expect(top.rows.map((row) => row.country)).toEqual(['FI', 'GB', 'US']);
        const revenue = await adapter.query(
          `SELECT COUNT(*) AS days FROM ${prefix}_shop.daily_revenue`,
        );
        expect(Number(revenue.rows[0]?.days)).toBeGreaterThan(0);
      } finally {
        await adapter.close();
      }

      const again = await runCli('--project', root, 'plan');
      expect(again.stdout).toContain('nothing to do');
    },
  );
});

/** Copies examples/shop with its schemas renamed and the chosen gateway as the default. */
async function copyExample(prefix: string, gateway: string): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'sluice-shop-'));
  await cp('examples/shop', root, {
    recursive: true,
    filter: (source) => !source.includes('.sluice'),
  });
  const rename = (text: string) =>
    text.replaceAll(/\bshop\./g, `${prefix}_shop.`).replaceAll(/\braw\./g, `${prefix}_raw.`);
  for (const file of await readdir(join(root, 'models'))) {
    const path = join(root, 'models', file);
    await writeFile(path, rename(await readFile(path, 'utf8')));
  }
  const externals = join(root, 'external_models.yaml');
  await writeFile(externals, rename(await readFile(externals, 'utf8')));
  const config = join(root, 'sluice.yaml');
  const text = await readFile(config, 'utf8');
  await writeFile(config, text.replace('default_gateway: local', `default_gateway: ${gateway}`));
  return root;
}

/** Writes the external orders table the shop application would own. */
async function loadRawOrders(
  root: string,
  prefix: string,
  openEngine: () => Promise<EngineAdapter>,
): Promise<void> {
  const project = await loadProject(root, { useCache: false });
  const columns = project.models.get(`${prefix}_raw.orders`)?.columns ?? [];
  const adapter = await openEngine();
  try {
    const table = { schema: `${prefix}_raw`, name: 'orders' };
    const definition = columns
      .map((column) => `${adapter.quoteIdentifier(column.name)} ${column.type}`)
      .join(', ');
    await adapter.createSchema(table.schema);
    await adapter.execute(`CREATE TABLE ${adapter.quoteTable(table)} (${definition})`);
    await adapter.loadCsvFile(
      table,
      join(root, 'data', 'raw_orders.csv'),
      columns.map((column) => column.name),
    );
  } finally {
    await adapter.close();
  }
}
