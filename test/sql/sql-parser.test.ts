import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Dialect } from '../../src/core/model.js';
import { createSqlParser, type SqlParser, SqlSyntaxError } from '../../src/sql/sql-parser.js';

let parser: SqlParser;

beforeAll(async () => {
  parser = await createSqlParser();
});

afterAll(async () => {
  await parser.close();
});

async function syntaxErrorOf(sql: string, dialect: Dialect): Promise<SqlSyntaxError> {
  const error = await parser.findReferences(sql, dialect).then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  if (!(error instanceof SqlSyntaxError)) throw new Error(`Expected a syntax error for: ${sql}`);
  return error;
}

const DIALECTS: readonly Dialect[] = ['postgres', 'duckdb'];

describe('syntax errors', () => {
  it.each(DIALECTS)('points at the end of a truncated %s statement', async (dialect) => {
    const sql = 'SELECT * FROM shop.orders WHERE';

    const error = await syntaxErrorOf(sql, dialect);

    expect(error.code).toBe('sql_syntax');
    expect(error.offset).toBe(sql.length);
    expect(error.message).toContain('at end of input');
    expect(error.message).toContain(`parsed as ${dialect} SQL`);
  });

  it('points at DuckDB-only syntax in PostgreSQL SQL, after non-ASCII text', async () => {
    const sql = "SELECT 'héllo 😀' AS greeting, * EXCLUDE (secret) FROM shop.customers";

    const error = await syntaxErrorOf(sql, 'postgres');

    expect(error.offset).toBe(sql.indexOf('EXCLUDE'));
    expect(error.message).toMatch(/^Syntax error at or near "EXCLUDE"/);
  });

  it("reports DuckDB's own error for DuckDB SQL, after non-ASCII text", async () => {
    const sql = "SELECT 'héllo 😀' AS greeting, * EXCLUDE (secret) FROM shop.customers WHERE WHERE";

    const error = await syntaxErrorOf(sql, 'duckdb');

    expect(error.offset).toBe(sql.lastIndexOf('WHERE'));
    expect(error.message).toContain('"WHERE"');
  });

  it('asks for PostgreSQL-compatible syntax in DuckDB statements other than SELECT', async () => {
    const sql = 'INSERT INTO shop.copy SELECT * EXCLUDE (secret) FROM shop.customers';

    const error = await syntaxErrorOf(sql, 'duckdb');

    expect(error.offset).toBe(sql.indexOf('EXCLUDE'));
    expect(error.message).toContain('DuckDB-only syntax in SELECT statements only');
  });
});

describe('names and positions', () => {
  it.each(DIALECTS)('gives string offsets after non-ASCII text in %s SQL', async (dialect) => {
    const sql = `SELECT '😀 café' AS label, b.titel -- Bücher ✓
      FROM "Café"."Bücher" b JOIN shop.orders o ON o.id = b.id`;

    const references = await parser.findReferences(sql, dialect);

    const written = references.map((reference) => sql.slice(reference.start, reference.end));
    expect(written).toEqual(['"Café"."Bücher"', 'shop.orders']);
    expect(references.map((reference) => reference.name)).toEqual(['Café.Bücher', 'shop.orders']);
  });

  it('gives string offsets after non-ASCII text when DuckDB parses the statement', async () => {
    const sql = 'SELECT \'😀 café\' AS label FROM "Café"."Bücher" QUALIFY label = \'x\'';

    const [reference] = await parser.findReferences(sql, 'duckdb');

    expect(reference?.start).toBe(sql.indexOf('"Café"'));
    expect(reference?.end).toBe(sql.indexOf(' QUALIFY'));
  });

  it('lower-cases unquoted names that DuckDB reports as written', async () => {
    const sql = 'SELECT * FROM Shop."Orders" JOIN SHOP.Customers USING (id) QUALIFY true';

    const references = await parser.findReferences(sql, 'duckdb');

    expect(references.map((reference) => reference.parts)).toEqual([
      ['shop', 'Orders'],
      ['shop', 'customers'],
    ]);
  });

  it.each(DIALECTS)(
    'reads names with white space and comments around dots in %s SQL',
    async (d) => {
      const sql = 'SELECT * FROM shop . /* the table */ orders AS o';

      const [reference] = await parser.findReferences(sql, d);

      expect(reference?.name).toBe('shop.orders');
      expect(sql.slice(reference?.start, reference?.end)).toBe('shop . /* the table */ orders');
    },
  );

  it.each(DIALECTS)('reads a name longer than the first stretch it lexes in %s SQL', async (d) => {
    const longName = `"${'Long Name '.repeat(6)}"`;
    const written = `shop /* ${'a long remark '.repeat(20)} */ . ${longName}`;
    const sql = `SELECT * FROM ${written} AS t`;

    const [reference] = await parser.findReferences(sql, d);

    expect(sql.slice(reference?.start, reference?.end)).toBe(written);
    expect(reference?.parts).toEqual(['shop', 'Long Name '.repeat(6)]);
  });

  it('treats a DuckDB scan of a file path as no table', async () => {
    const references = await parser.findReferences("SELECT * FROM 'data/orders.csv'", 'duckdb');

    expect(references).toEqual([]);
  });

  it.each(DIALECTS)('finds nothing in empty or comment-only %s SQL', async (dialect) => {
    expect(await parser.findReferences('', dialect)).toEqual([]);
    expect(await parser.findReferences('  -- nothing here\n', dialect)).toEqual([]);
  });

  it.each(['SELECT * FROM U&"d\\0061ta" AS d', 'SELECT * FROM U&"d!0061ta" UESCAPE \'!\' AS d'])(
    'reads a Unicode-escaped PostgreSQL name: %s',
    async (sql) => {
      const [reference] = await parser.findReferences(sql, 'postgres');

      expect(reference?.name).toBe('data');
      expect(sql.slice(reference?.start, reference?.end)).toBe(sql.slice(14, sql.indexOf(' AS d')));
    },
  );
});

describe('lifecycle', () => {
  it('opens DuckDB again after close when DuckDB SQL needs it', async () => {
    const own = await createSqlParser();
    await own.findReferences('FROM shop.orders SELECT id', 'duckdb');
    await own.close();

    const references = await own.findReferences('FROM shop.customers SELECT id', 'duckdb');
    await own.close();

    expect(references.map((reference) => reference.name)).toEqual(['shop.customers']);
  });

  it('answers concurrent DuckDB parses each with its own statement', async () => {
    const tables = ['a', 'b', 'c', 'd', 'e', 'f'];

    const results = await Promise.all(
      tables.map((table) => parser.findReferences(`FROM shop.${table} SELECT *`, 'duckdb')),
    );

    expect(results.map((references) => references[0]?.name)).toEqual(
      tables.map((table) => `shop.${table}`),
    );
  });
});
