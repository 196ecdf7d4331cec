import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyQueryChange } from '../../src/sql/select-list-change.js';

const QUERY = `SELECT o.order_id, SUM(o.amount) AS revenue
FROM shop.orders AS o
WHERE o.order_date BETWEEN @start_ds AND @end_ds
GROUP BY o.order_id`;

function withList(list: string): string {
  return QUERY.replace('o.order_id, SUM(o.amount) AS revenue', list);
}

function addedColumns(oldSql: string, newSql: string): readonly string[] | undefined {
  const change = classifyQueryChange(oldSql, newSql);
  return change.kind === 'adds_columns' ? change.addedColumns : undefined;
}

function breakingReason(oldSql: string, newSql: string): string | undefined {
  const change = classifyQueryChange(oldSql, newSql);
  return change.kind === 'breaking' ? change.reason : undefined;
}

describe('queries that did not change', () => {
  it('calls a query unchanged when only white space and comments differ', () => {
    const reformatted = `-- revenue per order
select o.order_id,   SUM(o.amount) as revenue /* in euros */
  from shop.orders as o
 where o.order_date between @start_ds and @end_ds
 group by o.order_id;`;

    expect(classifyQueryChange(QUERY, reformatted)).toEqual({ kind: 'unchanged' });
  });

  it('keeps the case of function names, as the canonical form does', () => {
    expect(breakingReason(QUERY, QUERY.replace('SUM', 'sum'))).toBe("column 'revenue' changed");
  });

  it('calls identical FROM-first and set-operation queries unchanged', () => {
    const fromFirst = 'FROM shop.orders SELECT order_id';
    const union = 'SELECT a FROM t UNION ALL SELECT a FROM u';

    expect(classifyQueryChange(fromFirst, 'from shop.orders  select order_id')).toEqual({
      kind: 'unchanged',
    });
    expect(classifyQueryChange(union, union)).toEqual({ kind: 'unchanged' });
  });

  it('calls identical texts unchanged even when their structure cannot be read', () => {
    expect(classifyQueryChange('SELECT (1', 'select  (1')).toEqual({ kind: 'unchanged' });
  });
});

describe('changes that only add columns', () => {
  const cases = [
    {
      name: 'a column added at the end',
      list: 'o.order_id, SUM(o.amount) AS revenue, COUNT(*) AS orders',
      added: ['orders'],
    },
    {
      name: 'a column added at the start',
      list: 'o.customer_id, o.order_id, SUM(o.amount) AS revenue',
      added: ['customer_id'],
    },
    {
      name: 'a column added in the middle',
      list: 'o.order_id, MAX(o.amount) AS largest, SUM(o.amount) AS revenue',
      added: ['largest'],
    },
    {
      name: 'several columns added in several places',
      list: '1 AS one, o.order_id, "Order Count", SUM(o.amount) AS revenue, o.x AS "Y"',
      added: ['one', 'Order Count', 'Y'],
    },
    {
      name: 'a subquery with commas inside it',
      list: 'o.order_id, (SELECT MAX(x), 1 FROM u LIMIT 1) AS top, SUM(o.amount) AS revenue',
      added: ['top'],
    },
    {
      name: 'a function call with several arguments',
      list: 'o.order_id, SUM(o.amount) AS revenue, COALESCE(MIN(o.a), 0, 1) AS low',
      added: ['low'],
    },
    {
      name: 'a macro in the added column',
      list: 'o.order_id, SUM(o.amount) AS revenue, @start_ds AS ds',
      added: ['ds'],
    },
    {
      name: 'an ordered-set aggregate with WITHIN GROUP',
      list: 'o.order_id, SUM(o.amount) AS revenue, percentile_cont(0.5) WITHIN GROUP (ORDER BY o.amount) AS median',
      added: ['median'],
    },
    {
      name: 'a comparison with IS DISTINCT FROM',
      list: 'o.order_id, SUM(o.amount) AS revenue, o.order_id IS NOT DISTINCT FROM 1 AS is_first',
      added: ['is_first'],
    },
    {
      name: 'a window function',
      list: 'o.order_id, SUM(o.amount) AS revenue, RANK() OVER (ORDER BY SUM(o.amount)) AS place',
      added: ['place'],
    },
  ];

  it.each(cases)('treats $name as adding columns', ({ list, added }) => {
    expect(classifyQueryChange(QUERY, withList(list))).toEqual({
      kind: 'adds_columns',
      addedColumns: added,
    });
  });

  it('names an added column by its alias, its name or the last part of a qualified name', () => {
    const before = 'SELECT a FROM s.t';

    expect(addedColumns(before, 'SELECT a, b + 1 AS total FROM s.t')).toEqual(['total']);
    expect(addedColumns(before, 'SELECT a, b FROM s.t')).toEqual(['b']);
    expect(addedColumns(before, 'SELECT a, s.t.b FROM s.t')).toEqual(['b']);
    expect(addedColumns(before, 'SELECT a, "t"."Mixed ""Case""" FROM s.t')).toEqual([
      'Mixed "Case"',
    ]);
    expect(addedColumns(before, 'SELECT a, 1 AS end FROM s.t')).toEqual(['end']);
    expect(addedColumns(before, 'SELECT a, total: b + 1 FROM s.t')).toEqual(['total']);
  });

  it('adds columns to a query that has CTEs, comparing the CTEs as written', () => {
    const before = `WITH recursive_cte (n) AS (SELECT 1), totals AS MATERIALIZED (
      SELECT id, SUM(x) AS total FROM t GROUP BY id
    ) SELECT id, total FROM totals`;
    const after = before.replace(
      'SELECT id, total FROM',
      'SELECT id, total, total * 2 AS double FROM',
    );

    expect(addedColumns(before, after)).toEqual(['double']);
    expect(breakingReason(before, after.replace('SUM(x)', 'SUM(y)'))).toBe(
      'the query changed outside its select list',
    );
  });

  it('adds columns to a query without FROM', () => {
    expect(addedColumns('SELECT 1 AS a', 'SELECT 1 AS a, 2 AS b')).toEqual(['b']);
  });

  it('adds columns after SELECT ALL and to a DuckDB list with a trailing comma', () => {
    expect(addedColumns('SELECT ALL a FROM t', 'SELECT ALL a, b FROM t')).toEqual(['b']);
    expect(addedColumns('SELECT a, FROM t', 'SELECT a, b, FROM t')).toEqual(['b']);
  });

  it('keeps an aggregate added to a grouped query non-breaking', () => {
    const before = 'SELECT region FROM t GROUP BY region';

    expect(addedColumns(before, 'SELECT region, COUNT(*) AS n FROM t GROUP BY region')).toEqual([
      'n',
    ]);
    expect(
      addedColumns('SELECT COUNT(*) AS n FROM t', 'SELECT COUNT(*) AS n, MAX(x) AS m FROM t'),
    ).toEqual(['m']);
  });

  it('keeps an added aggregate inside a subquery or a window non-breaking', () => {
    const before = 'SELECT a FROM t';

    expect(addedColumns(before, 'SELECT a, (SELECT MAX(b) FROM u) AS m FROM t')).toEqual(['m']);
    expect(
      addedColumns(before, 'SELECT a, SUM(b) FILTER (WHERE b > 0) OVER () AS s FROM t'),
    ).toEqual(['s']);
  });

  it('allows a column added at the end when ORDER BY refers to items by position', () => {
    const before = 'SELECT a, b FROM t ORDER BY 2 DESC LIMIT 5';

    expect(addedColumns(before, 'SELECT a, b, c FROM t ORDER BY 2 DESC LIMIT 5')).toEqual(['c']);
  });

  it('allows an alias that names the column it renames', () => {
    const before = 'SELECT a FROM t ORDER BY b';

    expect(addedColumns(before, 'SELECT a, t.b AS b FROM t ORDER BY b')).toEqual(['b']);
  });

  it('reports no added columns when only the list punctuation changed', () => {
    expect(addedColumns('SELECT a, b, FROM t', 'SELECT a, b FROM t')).toEqual([]);
  });
});

describe('breaking changes', () => {
  const cases = [
    {
      name: 'a removed column',
      before: 'SELECT a, b FROM t',
      after: 'SELECT a FROM t',
      reason: "column 'b' was removed",
    },
    {
      name: 'reordered columns',
      before: 'SELECT a, b, c FROM t',
      after: 'SELECT a, c, b FROM t',
      reason: "the select list was reordered: column 'c' moved",
    },
    {
      name: 'a changed constant in a select item',
      before: "SELECT a, b * 1.0 AS b, 'x' AS kind FROM t",
      after: "SELECT a, b * 1.00 AS b, 'x' AS kind FROM t",
      reason: "column 'b' changed",
    },
    {
      name: 'a changed WHERE',
      before: 'SELECT a FROM t WHERE b > 1',
      after: 'SELECT a, c FROM t WHERE b > 2',
      reason: 'the query changed outside its select list',
    },
    {
      name: 'a changed macro in WHERE',
      before: 'SELECT a FROM t WHERE ds BETWEEN @start_ds AND @end_ds',
      after: 'SELECT a FROM t WHERE ds BETWEEN @start_ds AND @end_ts',
      reason: 'the query changed outside its select list',
    },
    {
      name: 'an added expression without an alias',
      before: 'SELECT a FROM t',
      after: 'SELECT a, a + 1 FROM t',
      reason: "the added expression 'a + 1' has no name; give it one with AS",
    },
    {
      name: 'an added column in a SELECT DISTINCT',
      before: 'SELECT DISTINCT a FROM t',
      after: 'SELECT DISTINCT a, b FROM t',
      reason: 'the query uses SELECT DISTINCT, so an added column changes its rows',
    },
    {
      name: 'an added column in a SELECT DISTINCT ON',
      before: 'SELECT DISTINCT ON (a) a FROM t ORDER BY a, b',
      after: 'SELECT DISTINCT ON (a) a, b FROM t ORDER BY a, b',
      reason: 'the query uses SELECT DISTINCT, so an added column changes its rows',
    },
    {
      name: 'an added column with GROUP BY ALL',
      before: 'SELECT a, SUM(b) AS s FROM t GROUP BY ALL',
      after: 'SELECT a, c, SUM(b) AS s FROM t GROUP BY ALL',
      reason: 'the query uses GROUP BY ALL, whose meaning follows the select list',
    },
    {
      name: 'an added column with ORDER BY ALL',
      before: 'SELECT a FROM t ORDER BY ALL LIMIT 3',
      after: 'SELECT a, b FROM t ORDER BY ALL LIMIT 3',
      reason: 'the query uses ORDER BY ALL, whose meaning follows the select list',
    },
    {
      name: 'an added column in a UNION',
      before: 'SELECT a FROM t UNION ALL SELECT a FROM u',
      after: 'SELECT a, b FROM t UNION ALL SELECT a, b FROM u',
      reason: 'the query changed outside its select list',
    },
    {
      name: 'an added column in the first branch of an EXCEPT',
      before: 'SELECT a FROM t EXCEPT (SELECT a FROM u)',
      after: 'SELECT a, 1 AS b FROM t EXCEPT (SELECT a FROM u)',
      reason: 'the query is a set operation (EXCEPT)',
    },
    {
      name: 'an added column next to *',
      before: 'SELECT * FROM t',
      after: 'SELECT *, 1 AS x FROM t',
      reason: "the select list uses '*'",
    },
    {
      name: 'an added column next to t.*',
      before: 'SELECT t.*, u.a FROM t JOIN u USING (id)',
      after: 'SELECT t.*, u.a, u.b FROM t JOIN u USING (id)',
      reason: "the select list uses 't.*'",
    },
    {
      name: "DuckDB's * EXCLUDE",
      before: 'SELECT * EXCLUDE (secret) FROM t',
      after: 'SELECT * EXCLUDE (secret), 1 AS x FROM t',
      reason: "the select list uses '* EXCLUDE (secret)'",
    },
    {
      name: "DuckDB's COLUMNS(...)",
      before: "SELECT MIN(COLUMNS('amount_.*')) FROM t",
      after: "SELECT MIN(COLUMNS('amount_.*')), COUNT(*) AS n FROM t",
      reason: "the select list uses 'MIN(COLUMNS('amount_.*'))'",
    },
    {
      name: 'the @STAR macro',
      before: 'SELECT @STAR(t) FROM t',
      after: 'SELECT @STAR(t), 1 AS x FROM t',
      reason: "the select list uses '@STAR(t)'",
    },
    {
      name: 'a changed FROM-first DuckDB query',
      before: 'FROM t SELECT a',
      after: 'FROM t SELECT a, b',
      reason: 'the query is written FROM-first, so its select list is not compared',
    },
    {
      name: 'a change to a VALUES query',
      before: 'VALUES (1)',
      after: 'VALUES (1), (2)',
      reason: 'the query does not start with SELECT',
    },
    {
      name: 'a query turned FROM-first',
      before: 'SELECT a FROM t',
      after: 'FROM t SELECT a',
      reason: 'the query is written FROM-first, so its select list is not compared',
    },
    {
      name: 'a query that was FROM-first',
      before: 'FROM t SELECT a',
      after: 'SELECT a, b FROM t',
      reason:
        'the previous version cannot be compared: the query is written FROM-first, so its select list is not compared',
    },
    {
      name: 'a second statement',
      before: 'SELECT a FROM t',
      after: 'SELECT a FROM t; SELECT 2',
      reason: 'the text holds more than one statement',
    },
    {
      name: 'unbalanced brackets',
      before: 'SELECT a FROM t',
      after: 'SELECT (a FROM t',
      reason: "the query's brackets do not balance",
    },
    {
      name: 'an added aggregate in an ungrouped query',
      before: 'SELECT a FROM t',
      after: 'SELECT a, COUNT(*) AS n FROM t',
      reason:
        "the added column 'n' calls the aggregate COUNT in a query that did not aggregate, which changes its rows",
    },
    {
      name: 'an added set-returning function',
      before: 'SELECT a FROM t',
      after: 'SELECT a, unnest(tags) AS tag FROM t',
      reason: "the added column 'tag' calls unnest, which changes the number of rows",
    },
    {
      name: 'a column added before an item ORDER BY names by position',
      before: 'SELECT a, b FROM t ORDER BY 2 LIMIT 5',
      after: 'SELECT c, a, b FROM t ORDER BY 2 LIMIT 5',
      reason:
        "the query refers to select-list items by position, and column 'c' was added before one of them",
    },
    {
      name: 'a column added before an item GROUP BY names by position',
      before: 'SELECT a, SUM(b) AS s FROM t GROUP BY 1',
      after: 'SELECT c, a, SUM(b) AS s FROM t GROUP BY 1',
      reason:
        "the query refers to select-list items by position, and column 'c' was added before one of them",
    },
    {
      name: 'an alias that ORDER BY already names',
      before: 'SELECT a FROM t ORDER BY b LIMIT 5',
      after: 'SELECT a, c * 2 AS b FROM t ORDER BY b LIMIT 5',
      reason:
        "the added column 'b' has a name the query already uses, which may change what that name refers to",
    },
    {
      name: 'an alias another select item already names',
      before: 'SELECT a, b + 1 AS c FROM t',
      after: 'SELECT x AS b, a, b + 1 AS c FROM t',
      reason:
        "the added column 'b' has a name the query already uses, which may change what that name refers to",
    },
    {
      name: 'a column whose name is already in the list',
      before: 'SELECT t.a FROM t JOIN u USING (id)',
      after: 'SELECT t.a, u.A FROM t JOIN u USING (id)',
      reason: "column 'A' would appear twice",
    },
  ];

  it.each(cases)('calls $name breaking', ({ before, after, reason }) => {
    expect(classifyQueryChange(before, after)).toEqual({ kind: 'breaking', reason });
  });

  it('calls a list with * breaking even when the * was there before', () => {
    expect(breakingReason('SELECT a, * FROM t', 'SELECT a, *, b FROM t')).toBe(
      "the select list uses '*'",
    );
  });

  it('does not mistake a product or COUNT(*) for a *', () => {
    expect(addedColumns('SELECT a * b AS c FROM t', 'SELECT a * b AS c, 2*a AS d FROM t')).toEqual([
      'd',
    ]);
    expect(
      addedColumns('SELECT a FROM t GROUP BY a', 'SELECT a, COUNT(*) AS n FROM t GROUP BY a'),
    ).toEqual(['n']);
  });

  it('shortens a long expression in a reason', () => {
    const long = `a + ${Array.from({ length: 30 }, (_, index) => `c${index}`).join(' + ')}`;
    const reason = breakingReason('SELECT a FROM t', `SELECT a, ${long} FROM t`);

    expect(reason).toMatch(/^the added expression 'a \+ c0 \+ .{40,}\.\.\.' has no name/);
    expect(reason?.length).toBeLessThan(120);
  });
});

describe('properties', () => {
  const name = fc.stringMatching(/^[a-z][a-z0-9_]{0,6}$/).map((text) => `c_${text}`);

  it('calls adding named columns anywhere in a list a change that adds exactly them', () => {
    const lists = fc
      .uniqueArray(name, { minLength: 1, maxLength: 8 })
      .chain((names) =>
        fc.tuple(fc.constant(names), fc.subarray(names, { minLength: 1, maxLength: names.length })),
      );
    fc.assert(
      fc.property(lists, ([all, kept]) => {
        const isAdded = (column: string) => !kept.includes(column);
        const before = `SELECT ${kept.join(', ')} FROM t WHERE x > 1`;
        const after = `SELECT ${all.map((column) => (isAdded(column) ? `${column}_src + 1 AS ${column}` : column)).join(', ')} FROM t WHERE x > 1`;

        const expected = all.filter(isAdded);
        const change = classifyQueryChange(before, after);
        expect(change).toEqual(
          expected.length === 0
            ? { kind: 'unchanged' }
            : { kind: 'adds_columns', addedColumns: expected },
        );
      }),
    );
  });

  it('calls any reformatting of a query unchanged', () => {
    const spacing = fc.constantFrom(' ', '\n  ', ' /* note */ ', ' -- note\n');
    const tokens = QUERY.split(/\s+/);
    fc.assert(
      fc.property(
        fc.array(spacing, { minLength: tokens.length, maxLength: tokens.length }),
        (gaps) => {
          const reformatted = tokens.map((token, index) => `${token}${gaps[index]}`).join('');

          expect(classifyQueryChange(QUERY, reformatted)).toEqual({ kind: 'unchanged' });
        },
      ),
    );
  });
});

describe('classifications checked on DuckDB', () => {
  let instance: DuckDBInstance;
  let connection: DuckDBConnection;

  beforeAll(async () => {
    instance = await DuckDBInstance.create(':memory:');
    connection = await instance.connect();
    await connection.run(`CREATE TABLE t AS SELECT * FROM (VALUES
      (1, 10, 3, [1, 2]), (1, 20, 2, [3]), (2, 30, 1, [4, 5, 6]), (3, 5, 9, [7])
    ) AS v(a, b, c, tags)`);
  });

  afterAll(() => {
    connection.closeSync();
    instance.closeSync();
  });

  /** The rows of the old query's columns, as computed by the new query, sorted. */
  async function oldColumnRows(oldSql: string, newSql: string) {
    const oldResult = await connection.runAndReadAll(oldSql);
    const columns = oldResult.columnNames().map((column) => `"${column}"`);
    const newResult = await connection.runAndReadAll(
      `SELECT ${columns.join(', ')} FROM (${newSql}) AS q`,
    );
    const sorted = (rows: unknown[][]) => rows.map((row) => JSON.stringify(row)).sort();
    return { before: sorted(oldResult.getRowsJson()), after: sorted(newResult.getRowsJson()) };
  }

  it('keeps the old columns rows as they were where it finds only added columns', async () => {
    const pairs = [
      ['SELECT a, b FROM t', 'SELECT a, c * 2 AS c2, b FROM t'],
      [
        'SELECT a, SUM(b) AS s FROM t GROUP BY a',
        'SELECT a, SUM(b) AS s, COUNT(*) AS n FROM t GROUP BY a',
      ],
      ['SELECT a FROM t ORDER BY b LIMIT 2', 'SELECT a, b FROM t ORDER BY b LIMIT 2'],
      ['SELECT a, b FROM t ORDER BY 2 LIMIT 2', 'SELECT a, b, c AS z FROM t ORDER BY 2 LIMIT 2'],
      ['SELECT a FROM t', 'SELECT a, SUM(b) OVER (PARTITION BY a) AS s FROM t'],
      ['SELECT a FROM t', 'SELECT a, total: b + c, b IS DISTINCT FROM c AS differs FROM t'],
      [
        'SELECT a FROM t GROUP BY a',
        'SELECT a, percentile_cont(0.5) WITHIN GROUP (ORDER BY b) AS median FROM t GROUP BY a',
      ],
    ];
    for (const [before, after] of pairs as [string, string][]) {
      expect(classifyQueryChange(before, after).kind).toBe('adds_columns');
      const rows = await oldColumnRows(before, after);
      expect(rows.after).toEqual(rows.before);
    }
  });

  it('calls breaking the added columns that change the old columns rows', async () => {
    const pairs = [
      ['SELECT DISTINCT a FROM t', 'SELECT DISTINCT a, b FROM t'],
      ['SELECT a, SUM(b) AS s FROM t GROUP BY ALL', 'SELECT a, c, SUM(b) AS s FROM t GROUP BY ALL'],
      ['SELECT 1 AS one FROM t', 'SELECT 1 AS one, COUNT(*) AS n FROM t'],
      ['SELECT a FROM t', 'SELECT a, unnest(tags) AS tag FROM t'],
      ['SELECT a, b FROM t ORDER BY 2 LIMIT 2', 'SELECT c AS z, a, b FROM t ORDER BY 2 LIMIT 2'],
      ['SELECT a FROM t ORDER BY b LIMIT 2', 'SELECT a, c AS b FROM t ORDER BY b LIMIT 2'],
    ];
    for (const [before, after] of pairs as [string, string][]) {
      expect(classifyQueryChange(before, after).kind).toBe('breaking');
      const rows = await oldColumnRows(before, after);
      expect(rows.after).not.toEqual(rows.before);
    }
  });
});
