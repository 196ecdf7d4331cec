import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Dialect } from '../../src/core/model.js';
import { rewriteReferences } from '../../src/sql/reference-rewriter.js';
import { createSqlParser, type SqlParser, type TableReference } from '../../src/sql/sql-parser.js';

let parser: SqlParser;

beforeAll(async () => {
  parser = await createSqlParser();
});

afterAll(async () => {
  await parser.close();
});

/** Points a two-part read at the environment's view schema, as promotion does. */
function toEnvironmentView(reference: TableReference): string | undefined {
  const [schema, table] = reference.parts;
  if (reference.access !== 'read' || reference.parts.length !== 2) return undefined;
  return `"sluice__${schema}"."${table}"`;
}

describe('rewriteReferences', () => {
  it.each<Dialect>(['postgres', 'duckdb'])(
    'replaces every reference and keeps all other %s text exactly',
    async (dialect) => {
      const sql = `-- shop.orders in a comment stays
WITH orders AS (SELECT * FROM shop . orders WHERE note <> 'shop.orders')
SELECT o.id, "Shop"."Totals".amount /* Shop.Totals */
FROM orders o
JOIN "Shop"."Totals" ON "Shop"."Totals".id = o.id
WHERE EXISTS (SELECT 1 FROM Shop.Refunds r WHERE r.id = o.id)`;

      const references = await parser.findReferences(sql, dialect);
      const rewritten = rewriteReferences(sql, references, toEnvironmentView);

      expect(rewritten).toBe(`-- shop.orders in a comment stays
WITH orders AS (SELECT * FROM "sluice__shop"."orders" WHERE note <> 'shop.orders')
SELECT o.id, "Shop"."Totals".amount /* Shop.Totals */
FROM orders o
JOIN "sluice__Shop"."Totals" ON "Shop"."Totals".id = o.id
WHERE EXISTS (SELECT 1 FROM "sluice__shop"."refunds" r WHERE r.id = o.id)`);
    },
  );

  it('rewrites references that DuckDB parsed, after non-ASCII text', async () => {
    const sql = "SELECT '✓ naïve' AS flag, * EXCLUDE (id) FROM shop.orders, warehouse.shop.items";

    const references = await parser.findReferences(sql, 'duckdb');
    const rewritten = rewriteReferences(sql, references, toEnvironmentView);

    expect(rewritten).toBe(
      `SELECT '✓ naïve' AS flag, * EXCLUDE (id) FROM "sluice__shop"."orders", warehouse.shop.items`,
    );
  });

  it('leaves the write target alone when the replacement declines it', async () => {
    const sql = 'INSERT INTO shop.copy SELECT * FROM shop.orders';

    const references = await parser.findReferences(sql, 'postgres');
    const rewritten = rewriteReferences(sql, references, toEnvironmentView);

    expect(rewritten).toBe('INSERT INTO shop.copy SELECT * FROM "sluice__shop"."orders"');
  });

  it('replaces an occurrence listed twice only once', () => {
    const sql = 'SELECT * FROM shop.orders';
    const reference: TableReference = {
      name: 'shop.orders',
      parts: ['shop', 'orders'],
      access: 'read',
      start: 14,
      end: 25,
    };

    const rewritten = rewriteReferences(sql, [reference, reference], toEnvironmentView);

    expect(rewritten).toBe('SELECT * FROM "sluice__shop"."orders"');
  });
});
