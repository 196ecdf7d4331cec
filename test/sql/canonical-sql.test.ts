import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CANONICAL_KEYWORDS, keywordAt } from '../../src/sql/canonical-keywords.js';
import { canonicalSql } from '../../src/sql/canonical-sql.js';
import { significantTokens, tokenize } from '../../src/sql/lexer.js';

const QUERY = `SELECT o.order_id, SUM(o.amount) AS revenue
FROM shop.orders AS o
WHERE o.order_date BETWEEN @start_ds AND @end_ds AND o.status = 'paid'
GROUP BY o.order_id
ORDER BY revenue DESC`;

describe('what the canonical form ignores', () => {
  it('ignores white space, line breaks and indentation', () => {
    const reformatted = `select   o.order_id,
        SUM( o.amount )   as revenue
      from shop.orders as o
      where o.order_date between @start_ds and @end_ds
        and o.status = 'paid'
      group by o.order_id order by revenue desc`;

    expect(canonicalSql(reformatted)).toBe(canonicalSql(QUERY));
  });

  it('ignores line and block comments, nested ones included', () => {
    const commented = `-- revenue per order
SELECT o.order_id, /* the total */ SUM(o.amount) AS revenue -- in euros
FROM shop.orders AS o /* outer /* inner */ still a comment */
WHERE o.order_date BETWEEN @start_ds AND @end_ds AND o.status = 'paid'
GROUP BY o.order_id
ORDER BY revenue DESC -- biggest first`;

    expect(canonicalSql(commented)).toBe(canonicalSql(QUERY));
  });

  it('ignores the case of reserved keywords', () => {
    expect(canonicalSql('select a from t where b is not null')).toBe(
      canonicalSql('SELECT a FROM t WHERE b IS NOT NULL'),
    );
    expect(canonicalSql('Select a From t Left Join u On t.id = u.id')).toBe(
      'SELECT a FROM t LEFT JOIN u ON t . id = u . id',
    );
  });

  it('upper-cases every listed keyword written in lower case between names', () => {
    for (const keyword of CANONICAL_KEYWORDS) {
      expect(canonicalSql(`a ${keyword.toLowerCase()} b`)).toBe(`a ${keyword} b`);
    }
  });

  it('ignores keyword case in statements that follow AS', () => {
    expect(canonicalSql('create table t as select 1 as x')).toBe(
      canonicalSql('CREATE TABLE t AS SELECT 1 AS x'),
    );
    expect(canonicalSql('with c as not materialized (select 1) select * from c')).toBe(
      'WITH c AS NOT MATERIALIZED ( SELECT 1 ) SELECT * FROM c',
    );
  });

  it('ignores the case of keywords in window, ordering and range phrases', () => {
    const lower =
      'select sum(x) over (partition by g order by x rows between unbounded preceding and ' +
      'current row) from t where x not between 1 and 2 order by x desc nulls first';

    expect(canonicalSql(lower)).toBe(
      'SELECT sum ( x ) OVER ( PARTITION BY g ORDER BY x ROWS BETWEEN UNBOUNDED PRECEDING AND ' +
        'CURRENT ROW ) FROM t WHERE x NOT BETWEEN 1 AND 2 ORDER BY x DESC NULLS FIRST',
    );
  });

  it('ignores the case of typed literals, interval units and built-in types after ::', () => {
    expect(canonicalSql("select date '2024-01-01', interval 1 day, x::date, y::Mood")).toBe(
      "SELECT DATE '2024-01-01' , INTERVAL 1 DAY , x :: DATE , y :: Mood",
    );
  });

  it('writes the significant tokens joined by one space', () => {
    expect(canonicalSql("select\n\ta,b\n-- note\nfrom  t where x>=1.50 and y='a  b'")).toBe(
      "SELECT a , b FROM t WHERE x >= 1.50 AND y = 'a  b'",
    );
  });

  it('gives every spacing and commenting of the same tokens one form', () => {
    const tokens = significantTokens(QUERY).map((token) => token.text);
    const gap = fc.constantFrom(' ', '\n', '\t  ', ' /* c */ ', ' -- c\n', '\n\n  ');
    const gaps = fc.array(gap, { minLength: tokens.length, maxLength: tokens.length });
    fc.assert(
      fc.property(gaps, (chosen) => {
        const text = tokens.map((token, index) => `${chosen[index]}${token}`).join('');
        expect(canonicalSql(text)).toBe(canonicalSql(QUERY));
      }),
    );
  });
});

describe('what the canonical form keeps', () => {
  const base = canonicalSql(QUERY);
  const changes: [string, string][] = [
    ['a changed constant', QUERY.replace("'paid'", "'open'")],
    [
      'a changed column order',
      QUERY.replace('o.order_id, SUM', 'SUM').replace('revenue\n', 'revenue, o.order_id\n'),
    ],
    ['a changed predicate', QUERY.replace("o.status = 'paid'", "o.status <> 'paid'")],
    ['a changed identifier case', QUERY.replace('AS revenue', 'AS Revenue')],
    ['a changed string literal', QUERY.replace("'paid'", "'PAID'")],
    ['a changed quoted identifier', QUERY.replace('AS revenue', 'AS "revenue "')],
    ['a changed macro', QUERY.replace('@end_ds', '@end_ts')],
    ['a changed operator', QUERY.replace('SUM(o.amount)', 'SUM(-o.amount)')],
  ];

  it.each(changes)('changes with %s', (_change, changed) => {
    expect(changed).not.toBe(QUERY);
    expect(canonicalSql(changed)).not.toBe(base);
  });

  it('keeps numbers as written', () => {
    expect(canonicalSql('SELECT 1.0')).not.toBe(canonicalSql('SELECT 1.00'));
  });

  it('keeps macros as written, arguments included', () => {
    expect(canonicalSql("select @VAR('min_qty', 1), @DEF(x, 2)")).toBe(
      "SELECT @VAR ( 'min_qty' , 1 ) , @DEF ( x , 2 )",
    );
  });

  it('keeps the case of a keyword used as a name after a dot', () => {
    expect(canonicalSql('select t.end from t')).toBe('SELECT t . end FROM t');
    expect(canonicalSql('select t.END from t')).not.toBe(canonicalSql('select t.end from t'));
  });

  it('keeps the case of a keyword used as a column label after AS', () => {
    expect(canonicalSql('select 1 as end, 2 as Select from t')).toBe(
      'SELECT 1 AS end , 2 AS Select FROM t',
    );
    expect(canonicalSql('select (select 1 as order)')).toBe('SELECT ( SELECT 1 AS order )');
    expect(canonicalSql('select 1 as END')).not.toBe(canonicalSql('select 1 as end'));
  });

  it('keeps the case of phrase keywords used as column names', () => {
    expect(canonicalSql('select rows, nulls, interval, between from t where rows > 1')).toBe(
      'SELECT rows , nulls , interval , between FROM t WHERE rows > 1',
    );
    expect(canonicalSql('with recursive as (select 1) select * from recursive')).toBe(
      'WITH recursive AS ( SELECT 1 ) SELECT * FROM recursive',
    );
  });

  it('keeps the case of function names', () => {
    expect(canonicalSql('select sum(x)')).not.toBe(canonicalSql('select SUM(x)'));
  });

  it('does not read non-ASCII names that upper-case to a keyword as keywords', () => {
    expect(canonicalSql('select lımıt from t')).toBe('SELECT lımıt FROM t');
  });
});

describe('the canonical form against DuckDB', () => {
  let instance: DuckDBInstance;
  let connection: DuckDBConnection;

  beforeAll(async () => {
    instance = await DuckDBInstance.create(':memory:');
    connection = await instance.connect();
  });

  afterAll(() => {
    connection.closeSync();
    instance.closeSync();
  });

  it('upper-cases only words DuckDB refuses as unquoted column names', async () => {
    const accepted: string[] = [];
    // TRUE, FALSE and NULL are accepted, but as the literals, never as a column.
    const words = [...CANONICAL_KEYWORDS].filter(
      (word) => !['TRUE', 'FALSE', 'NULL'].includes(word),
    );
    for (const keyword of words) {
      const word = keyword.toLowerCase();
      await connection.run(`CREATE OR REPLACE TABLE t ("${word}" INTEGER)`);
      try {
        await connection.run(`SELECT ${word} FROM t`);
        accepted.push(keyword);
      } catch {
        // Refused, as it should be.
      }
    }

    expect(accepted).toEqual([]);
  });

  it('upper-cases only words whose case DuckDB ignores, wherever they stand', async () => {
    await connection.run(
      'CREATE OR REPLACE TABLE t (x INTEGER, g INTEGER, "end" INTEGER, "rows" INTEGER, ' +
        '"nulls" INTEGER, "interval" INTEGER, "between" INTEGER, "first" INTEGER)',
    );
    const queries = [
      'select x between 1 and 2, x not between g and 3, between from t',
      'select sum(x) over (partition by g order by x rows between unbounded preceding and current row) from t',
      'select x, rows, nulls, interval, first from t order by x desc nulls first',
      "select date '2024-01-01', interval 1 day, '2024-01-01'::date, x::integer from t",
      'select t.end, t.between, t.rows, 1 as end, 2 as select, 3 as from from t',
      'with recursive r as (select 1 as a) select a, exists (select 1) from r',
      'select count(*) filter (where x > 1), count(*) from t',
      'select x is not null, case when x > 1 then 1 else null end, x in (1, 2) from t',
    ];

    for (const query of queries) {
      const expected = { canonical: canonicalSql(query), columns: await columnsOf(query) };
      await fc.assert(
        fc.asyncProperty(keywordCaseVariant(query), async (variant) => {
          expect(canonicalSql(variant)).toBe(expected.canonical);
          expect(await columnsOf(variant)).toEqual(expected.columns);
        }),
        { numRuns: 25 },
      );
    }
  });

  async function columnsOf(query: string): Promise<string[]> {
    return (await connection.runAndReadAll(`${query} LIMIT 0`)).columnNames();
  }
});

/** The query with each word the canonical form upper-cases written in either case, at random. */
function keywordCaseVariant(query: string): fc.Arbitrary<string> {
  const tokens = tokenize(query);
  const significant = tokens.filter((token) => token.type !== 'whitespace');
  const keywords = new Set(significant.filter((_token, index) => keywordAt(significant, index)));
  const choice = fc.constantFrom('lower', 'upper', 'same');
  return fc.array(choice, { minLength: tokens.length, maxLength: tokens.length }).map((choices) =>
    tokens
      .map((token, index) => {
        if (!keywords.has(token)) return token.text;
        if (choices[index] === 'lower') return token.text.toLowerCase();
        return choices[index] === 'upper' ? token.text.toUpperCase() : token.text;
      })
      .join(''),
  );
}

describe('the keyword list', () => {
  it('is pinned: changing it changes versions and needs a new fingerprint format', () => {
    expect([...CANONICAL_KEYWORDS].join(' ')).toBe(PINNED_KEYWORDS);
  });
});

const PINNED_KEYWORDS =
  'ALL ANALYSE ANALYZE AND ANTI ANY ARRAY AS ASC ASOF ASYMMETRIC AT AUTHORIZATION BINARY BOTH ' +
  'BY CASE CAST CHECK COLLATE COLLATION COLUMN CONCURRENTLY CONSTRAINT CREATE CROSS DEFAULT ' +
  'DEFERRABLE DESC DESCRIBE DISTINCT DO ELSE END EXCEPT FALSE FETCH FOR FOREIGN FREEZE FROM ' +
  'FULL GLOB GROUP HAVING ILIKE IN INITIALLY INNER INTERSECT INTO IS ISNULL JOIN LAMBDA ' +
  'LATERAL LEADING LEFT LIKE LIMIT NATURAL NOT NOTNULL NULL OFFSET ON ONLY OR ORDER OUTER ' +
  'OVERLAPS PIVOT PIVOT_LONGER PIVOT_WIDER PLACING POSITIONAL PRIMARY QUALIFY REFERENCES ' +
  'RETURNING RIGHT SELECT SEMI SHOW SIMILAR SOME SUMMARIZE SYMMETRIC TABLE TABLESAMPLE THEN TO ' +
  'TRAILING TRUE UNION UNIQUE UNPACK UNPIVOT USING VARIADIC VERBOSE WHEN WHERE WINDOW WITH';
