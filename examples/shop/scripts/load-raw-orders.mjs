// Stands in for the shop application: writes its `raw.orders` table, which the project declares
// in external_models.yaml and reads but does not build, from data/raw_orders.csv into the
// project's default DuckDB database. Run it before the first plan (`npm run quickstart` does).
// Usage: node examples/shop/scripts/load-raw-orders.mjs   (after `npm run build`)
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createEngineAdapter } from '../../../dist/engines/create-engine-adapter.js';
import { loadProject } from '../../../dist/project/project-loader.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const project = await loadProject(root);
const gateway = project.config.gateways.get('local');
const columns = project.models.get('raw.orders')?.columns ?? [];
await mkdir(join(root, '.sluice'), { recursive: true });

const adapter = await createEngineAdapter({
  gateway: 'local',
  type: 'duckdb',
  settings: gateway?.connection ?? {},
  baseDir: root,
});
try {
  const table = { schema: 'raw', name: 'orders' };
  const definition = columns
    .map((column) => `${adapter.quoteIdentifier(column.name)} ${column.type}`)
    .join(', ');
  await adapter.createSchema('raw');
  await adapter.execute(`CREATE OR REPLACE TABLE ${adapter.quoteTable(table)} (${definition})`);
  await adapter.loadCsvFile(
    table,
    join(root, 'data', 'raw_orders.csv'),
    columns.map((column) => column.name),
  );
  const count = await adapter.query(`SELECT COUNT(*) AS n FROM ${adapter.quoteTable(table)}`);
  const file = join(root, '.sluice', 'shop.duckdb');
  console.log(`Loaded ${count.rows[0]?.n} rows into raw.orders of ${file}`);
} finally {
  await adapter.close();
}
