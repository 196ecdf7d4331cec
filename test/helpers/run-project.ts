import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { createEngineAdapter } from '../../src/engines/create-engine-adapter.js';
import type { EngineAdapter } from '../../src/engines/engine-adapter.js';
import { postgresTestSettings } from './engines.js';
import { writeProject } from './temp-project.js';

/**
 * A temporary project whose models build on a real engine: DuckDB in a file inside the project,
 * or PostgreSQL on the test server with schema names private to the project, dropped by
 * `cleanup`.
 */
export type RunProject = {
  readonly root: string;
  /** The project's schema for models, unique to this project: `shop` → `r1a2b3c4_shop`. */
  readonly schema: string;
  /** Opens an adapter on the project's engine; close it after use. */
  openEngine(): Promise<EngineAdapter>;
  cleanup(): Promise<void>;
};

/** `models` maps file names under models/ (and seeds/) to contents; `{s}` stands for the schema. */
export async function writeRunProject(
  engine: 'duckdb' | 'postgres',
  files: Record<string, string>,
): Promise<RunProject> {
  const schema = `r${randomBytes(4).toString('hex')}_shop`;
  const expanded = Object.fromEntries(
    Object.entries(files).map(([path, text]) => [path, text.replaceAll('{s}', schema)]),
  );
  const root = await writeProject({ 'sluice.yaml': configFor(engine), ...expanded });
  const openEngine = () =>
    createEngineAdapter({
      gateway: 'local',
      type: engine,
      settings:
        engine === 'duckdb' ? { database: join(root, 'warehouse.duckdb') } : postgresTestSettings(),
      baseDir: root,
    });
  const cleanup = async () => {
    if (engine !== 'postgres') return;
    const adapter = await openEngine();
    try {
      const created = await adapter.query(
        'SELECT nspname AS name FROM pg_namespace WHERE nspname LIKE $1 OR nspname LIKE $2',
        [`${schema}%`, `sluice__${schema}%`],
      );
      for (const row of created.rows) {
        await adapter.execute(`DROP SCHEMA ${adapter.quoteIdentifier(String(row.name))} CASCADE`);
      }
    } finally {
      await adapter.close();
    }
  };
  return { root, schema, openEngine, cleanup };
}

function configFor(engine: 'duckdb' | 'postgres'): string {
  if (engine === 'duckdb') {
    return 'name: test\ngateways:\n  local:\n    connection:\n      type: duckdb\n      database: warehouse.duckdb\n';
  }
  const settings = postgresTestSettings();
  const lines = Object.entries(settings).map(([key, value]) => `      ${key}: ${value}`);
  return `name: test\ngateways:\n  local:\n    connection:\n      type: postgres\n${lines.join('\n')}\n`;
}

/** Counts a table's rows through an adapter. */
export async function countRows(adapter: EngineAdapter, table: string): Promise<number> {
  const result = await adapter.query(`SELECT COUNT(*) AS n FROM ${table}`);
  return Number(result.rows[0]?.n);
}
