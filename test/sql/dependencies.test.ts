import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findDuckDbReferences } from '../../src/sql/duckdb-references.js';
import {
  createDuckDbSqlSerializer,
  type DuckDbSqlSerializer,
} from '../../src/sql/duckdb-sql-serializer.js';
import { createSqlParser, type SqlParser } from '../../src/sql/sql-parser.js';
import { locateReferences, type TableReference } from '../../src/sql/table-reference.js';

/**
 * Each case runs through every parser path its syntax allows: PostgreSQL SQL, DuckDB SQL through
 * the parser front (libpg-query first, DuckDB's parser on a syntax error), and DuckDB's own parser
 * directly, so that both walkers see the same queries.
 */
type Path = 'postgres' | 'duckdb' | 'duckdb parser';

type Case = {
  readonly name: string;
  readonly sql: string;
  readonly reads: readonly string[];
  readonly writes?: readonly string[];
  readonly paths: readonly Path[];
};

const ALL_PATHS: readonly Path[] = ['postgres', 'duckdb', 'duckdb parser'];
const DUCKDB_ONLY: readonly Path[] = ['duckdb', 'duckdb parser'];
/** DuckDB serialises SELECT statements only, so other statements skip its parser. */
const NOT_SELECT: readonly Path[] = ['postgres', 'duckdb'];

const HARD_QUERIES: readonly Case[] = [
  {
    name: 'a CTE named like the real table it reads',
    sql: `WITH orders AS (
            SELECT * FROM orders WHERE status = 'paid'
          )
          SELECT customer_id, SUM(amount) AS total FROM orders GROUP BY customer_id`,
    reads: ['orders'],
    paths: ALL_PATHS,
  },
  {
    name: 'LATERAL joins and window functions',
    sql: `SELECT c.id, recent.amount,
                 ROW_NUMBER() OVER (PARTITION BY c.region ORDER BY recent.ordered_at DESC) AS rn,
                 SUM(recent.amount) OVER w AS running
          FROM shop.customers AS c
          CROSS JOIN LATERAL (
            SELECT o.amount, o.ordered_at FROM shop.orders AS o
            WHERE o.customer_id = c.id ORDER BY o.ordered_at DESC LIMIT 3
          ) AS recent
          LEFT JOIN LATERAL (
            SELECT COUNT(*) AS n FROM shop.returns r WHERE r.customer_id = c.id
          ) AS ret ON true
          FULL OUTER JOIN shop.regions reg ON reg.code = c.region
          WINDOW w AS (PARTITION BY c.id ORDER BY recent.ordered_at)`,
    reads: ['shop.customers', 'shop.orders', 'shop.regions', 'shop.returns'],
    paths: ALL_PATHS,
  },
  {
    name: "DuckDB's * EXCLUDE, QUALIFY and ::",
    sql: `SELECT * EXCLUDE (internal_note), amount::DECIMAL(12, 2) AS amount_eur
          FROM shop.orders o
          JOIN shop.customers USING (customer_id)
          QUALIFY ROW_NUMBER() OVER (PARTITION BY o.customer_id ORDER BY o.ordered_at DESC) = 1`,
    reads: ['shop.customers', 'shop.orders'],
    paths: DUCKDB_ONLY,
  },
  {
    name: 'INSERT ... SELECT with quoted names',
    sql: `INSERT INTO "Analytics"."Daily Revenue" ("Order Date", revenue)
          SELECT o."Order Date", SUM(o.amount)::NUMERIC
          FROM "Shop"."Orders" AS o
          JOIN Shop.Customers AS c ON c.id = o.customer_id
          WHERE o."Order Date" >= '2024-01-01'
          GROUP BY 1`,
    reads: ['Shop.Orders', 'shop.customers'],
    writes: ['Analytics.Daily Revenue'],
    paths: NOT_SELECT,
  },
  {
    name: 'three-part names with UNION, EXISTS and scalar subqueries',
    sql: `SELECT a.id,
                 (SELECT MAX(e.ts) FROM warehouse.shop.events e WHERE e.order_id = a.id) AS last_event
          FROM warehouse.shop.orders a
          WHERE EXISTS (SELECT 1 FROM warehouse.shop.payments p WHERE p.order_id = a.id)
          UNION
          SELECT b.id, NULL FROM archive.shop.orders b
          WHERE b.id IN (SELECT order_id FROM shop.refunds)
          EXCEPT
          SELECT id, NULL FROM archive.shop.deleted_orders`,
    reads: [
      'archive.shop.deleted_orders',
      'archive.shop.orders',
      'shop.refunds',
      'warehouse.shop.events',
      'warehouse.shop.orders',
      'warehouse.shop.payments',
    ],
    paths: ALL_PATHS,
  },
  {
    name: 'a recursive CTE and a CTE in a subquery whose name is a real table outside it',
    sql: `WITH RECURSIVE tree AS (
            SELECT id, parent_id, 1 AS depth FROM shop.categories WHERE parent_id IS NULL
            UNION ALL
            SELECT c.id, c.parent_id, t.depth + 1
            FROM shop.categories c JOIN tree t ON c.parent_id = t.id
          )
          SELECT tree.id, counts.n, totals.amount
          FROM tree
          JOIN (
            WITH totals AS (
              SELECT category_id, COUNT(*) AS n FROM shop.products GROUP BY category_id
            )
            SELECT category_id, n FROM totals
          ) AS counts ON counts.category_id = tree.id
          JOIN totals ON totals.category_id = tree.id`,
    reads: ['shop.categories', 'shop.products', 'totals'],
    paths: ALL_PATHS,
  },
];

const MORE_QUERIES: readonly Case[] = [
  {
    name: 'GROUP BY ALL',
    sql: 'SELECT region, SUM(amount) FROM shop.orders GROUP BY ALL',
    reads: ['shop.orders'],
    paths: DUCKDB_ONLY,
  },
  {
    name: 'FROM-first SELECT',
    sql: 'FROM shop.orders o JOIN shop.customers c USING (customer_id) SELECT o.id, c.name',
    reads: ['shop.customers', 'shop.orders'],
    paths: DUCKDB_ONLY,
  },
  {
    name: 'a later CTE reading an earlier one',
    sql: 'WITH a AS (SELECT * FROM staging.raw), b AS (SELECT * FROM a) SELECT * FROM b',
    reads: ['staging.raw'],
    paths: ALL_PATHS,
  },
  {
    name: 'an earlier CTE naming a later one, which is not yet in scope',
    sql: 'WITH a AS (SELECT * FROM b), b AS (SELECT 1 AS x) SELECT * FROM a, b',
    reads: ['b'],
    paths: ALL_PATHS,
  },
  {
    name: 'a qualified name spelled like a CTE',
    sql: 'WITH orders AS (SELECT 1 AS id) SELECT * FROM orders JOIN shop.orders USING (id)',
    reads: ['shop.orders'],
    paths: ALL_PATHS,
  },
  {
    name: 'table functions',
    sql: `SELECT * FROM generate_series(1, 10) AS g, unnest(ARRAY[1, 2]) AS u,
            read_csv('data/orders.csv') AS r, shop.calendar`,
    reads: ['shop.calendar'],
    paths: ALL_PATHS,
  },
  {
    name: 'joins of every type and INTERSECT',
    sql: `SELECT * FROM s.a INNER JOIN s.b ON true LEFT JOIN s.c ON true RIGHT JOIN s.d ON true
          FULL JOIN s.e ON true CROSS JOIN s.f NATURAL JOIN s.g
          INTERSECT SELECT * FROM s.h`,
    reads: ['s.a', 's.b', 's.c', 's.d', 's.e', 's.f', 's.g', 's.h'],
    paths: ALL_PATHS,
  },
  {
    name: 'UPDATE ... FROM',
    sql: `UPDATE shop.orders AS o SET status = s.status
          FROM staging.statuses AS s WHERE s.order_id = o.id`,
    reads: ['staging.statuses'],
    writes: ['shop.orders'],
    paths: NOT_SELECT,
  },
  {
    name: 'DELETE ... USING',
    sql: 'DELETE FROM shop.orders o USING shop.cancelled c WHERE c.order_id = o.id',
    reads: ['shop.cancelled'],
    writes: ['shop.orders'],
    paths: NOT_SELECT,
  },
  {
    name: 'CREATE TABLE AS',
    sql: 'CREATE TABLE shop.orders_copy AS SELECT * FROM shop.orders WHERE id > 10',
    reads: ['shop.orders'],
    writes: ['shop.orders_copy'],
    paths: NOT_SELECT,
  },
  {
    name: 'MERGE',
    sql: `MERGE INTO shop.customers t USING staging.customers s ON t.id = s.id
          WHEN MATCHED THEN UPDATE SET name = s.name
          WHEN NOT MATCHED THEN INSERT (id, name) VALUES (s.id, s.name)`,
    reads: ['staging.customers'],
    writes: ['shop.customers'],
    paths: NOT_SELECT,
  },
  {
    name: 'an INSERT whose target is named like a CTE of the statement',
    sql: 'WITH src AS (SELECT * FROM staging.raw) INSERT INTO src SELECT * FROM src',
    reads: ['staging.raw'],
    writes: ['src'],
    paths: NOT_SELECT,
  },
  {
    name: 'CREATE TABLE ... LIKE another table',
    sql: 'CREATE TABLE shop.orders_audit (LIKE shop.orders)',
    reads: ['shop.orders'],
    writes: ['shop.orders_audit'],
    paths: NOT_SELECT,
  },
  {
    name: 'CREATE INDEX',
    sql: 'CREATE INDEX orders_by_customer ON shop.orders (customer_id)',
    reads: [],
    writes: ['shop.orders'],
    paths: NOT_SELECT,
  },
  {
    name: 'COPY of a table to a file',
    sql: "COPY shop.orders TO '/tmp/orders.csv'",
    reads: ['shop.orders'],
    paths: NOT_SELECT,
  },
];

let parser: SqlParser;
let serializer: DuckDbSqlSerializer;

beforeAll(async () => {
  parser = await createSqlParser();
  serializer = createDuckDbSqlSerializer();
});

afterAll(async () => {
  await parser.close();
  await serializer.close();
});

async function referencesOf(sql: string, path: Path): Promise<readonly TableReference[]> {
  if (path !== 'duckdb parser') return parser.findReferences(sql, path);
  const result = await serializer.serialize(sql);
  if (result.kind !== 'statements') throw new Error(`DuckDB did not serialise: ${result.kind}`);
  return locateReferences(sql, findDuckDbReferences(result.statements), 'as-written');
}

function namesOf(references: readonly TableReference[], access: 'read' | 'write'): string[] {
  const names = references.filter((reference) => reference.access === access);
  return [...new Set(names.map((reference) => reference.name))].sort();
}

describe.each([...HARD_QUERIES, ...MORE_QUERIES])('$name', (query) => {
  it.each(query.paths)('finds exactly the tables read and written, via %s', async (path) => {
    const references = await referencesOf(query.sql, path);

    expect(namesOf(references, 'read')).toEqual(query.reads);
    expect(namesOf(references, 'write')).toEqual(query.writes ?? []);
  });
});

describe('CTE scope', () => {
  it.each(ALL_PATHS)(
    'returns the shadowed real table once, from the CTE body, via %s',
    async (path) => {
      const sql = HARD_QUERIES[0]?.sql ?? '';

      const references = await referencesOf(sql, path);

      expect(references).toHaveLength(1);
      expect(references[0]?.start).toBe(sql.indexOf('FROM orders') + 'FROM '.length);
    },
  );

  it.each(ALL_PATHS)('returns every occurrence of a repeated table via %s', async (path) => {
    const sql = 'SELECT * FROM shop.a JOIN shop.a AS b ON true WHERE EXISTS (SELECT 1 FROM shop.a)';

    const references = await referencesOf(sql, path);

    const starts = [...sql.matchAll(/shop\.a/g)].map((match) => match.index);
    expect(references.map((reference) => reference.start).sort((a, b) => a - b)).toEqual(starts);
    expect(
      references.every((reference) => sql.slice(reference.start, reference.end) === 'shop.a'),
    ).toBe(true);
  });

  it.each(ALL_PATHS)('keeps all three parts of a three-part name via %s', async (path) => {
    const references = await referencesOf('SELECT * FROM "Ware House".shop.orders', path);

    expect(references.map((reference) => reference.parts)).toEqual([
      ['Ware House', 'shop', 'orders'],
    ]);
  });
});
