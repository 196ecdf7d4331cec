import { describe, expect, it } from 'vitest';
import type { MacroValue } from '../../../src/sql/macro-context.js';
import {
  renderModelStatements,
  renderSql,
  renderStatements,
} from '../../../src/sql/macros/macro-renderer.js';
import { dailyContext, sqlAt } from './macro-test-context.js';

function render(sql: string, variables: Record<string, MacroValue> = {}): string {
  return renderSql(sqlAt(sql), dailyContext({ variables }));
}

describe('text without macros', () => {
  it('returns SQL without any @ unchanged', () => {
    const sql = 'SELECT  a,\n  b -- note\nFROM t';
    expect(render(sql)).toBe(sql);
  });

  it('leaves @ inside strings, quoted identifiers and comments untouched', () => {
    const sql = `SELECT '@start_ds' AS "@end_ds", $$@foo$$ -- @bar\n/* @STAR(x) */ FROM t`;
    expect(render(sql)).toBe(sql);
  });

  it('preserves spacing, comments and case around macros byte for byte', () => {
    expect(render("select\t@start_ds  /* c */ ,\n  'x'")).toBe(
      "select\t'2024-01-01'  /* c */ ,\n  'x'",
    );
  });

  it('leaves a lone @ operator alone', () => {
    expect(render('SELECT @ -5, @(x)')).toBe('SELECT @ -5, @(x)');
  });
});

describe('@DEF', () => {
  it('defines variables for later statements and is left out of the result', () => {
    const rendered = renderStatements(
      [
        sqlAt("@DEF(country, 'NL')"),
        sqlAt('@DEF(min_amount, 10)'),
        sqlAt('@def(is_open, true)'),
        sqlAt('SELECT * FROM t WHERE c = @country AND a > @MIN_AMOUNT AND o = @is_open'),
      ],
      dailyContext(),
    );
    expect(rendered).toEqual(["SELECT * FROM t WHERE c = 'NL' AND a > 10 AND o = TRUE"]);
  });

  it('keeps lists, NULL and other SQL text as values', () => {
    const rendered = renderStatements(
      [
        sqlAt('@DEF(ids, [1, 2, 3])'),
        sqlAt("@DEF(names, ('a', 'b'))"),
        sqlAt('@DEF(nothing, NULL)'),
        sqlAt('@DEF(total, price * quantity)'),
        sqlAt('SELECT @total FROM t WHERE id IN (@ids) AND n IN (@names) AND x IS @nothing'),
      ],
      dailyContext(),
    );
    expect(rendered).toEqual([
      "SELECT price * quantity FROM t WHERE id IN (1, 2, 3) AND n IN ('a', 'b') AND x IS NULL",
    ]);
  });

  it('renders macros inside the value when it is defined', () => {
    const rendered = renderStatements(
      [sqlAt('@DEF(day, @start_ds)'), sqlAt('SELECT @day, @{day}')],
      dailyContext(),
    );
    expect(rendered).toEqual(["SELECT '2024-01-01', 2024-01-01"]);
  });

  it('defines variables for the query and post-statements of a model', () => {
    const rendered = renderModelStatements(
      [sqlAt('@DEF(schema_name, staging)'), sqlAt('SET x = 1')],
      sqlAt('SELECT * FROM @schema_name.orders'),
      [sqlAt('@DEF(limit_rows, 5)'), sqlAt('ANALYZE @schema_name.orders LIMIT @limit_rows')],
      dailyContext(),
    );
    expect(rendered).toEqual({
      pre: ['SET x = 1'],
      query: 'SELECT * FROM staging.orders',
      post: ['ANALYZE staging.orders LIMIT 5'],
    });
  });

  it('starts every model with no definitions', () => {
    const context = dailyContext();
    renderStatements([sqlAt('@DEF(x, 1)')], context);
    expect(() => renderStatements([sqlAt('SELECT @x')], context)).toThrow(/'@x' is not defined/);
  });

  it('lets renderSql use definitions passed in, in any case', () => {
    const defined = new Map<string, MacroValue>([
      ['Region', 'eu'],
      ['ids', [1, 2]],
    ]);
    const rendered = renderSql(sqlAt('SELECT @region, @ids'), dailyContext(), defined);
    expect(rendered).toBe("SELECT 'eu', 1, 2");
  });

  it('lets a @DEF inside a renderSql text define for the rest of that text only', () => {
    const defined = new Map<string, MacroValue>();
    expect(renderSql(sqlAt('@DEF(y, 2) SELECT @y'), dailyContext(), defined)).toBe(' SELECT 2');
    expect(defined.size).toBe(0);
  });
});

describe('@VAR', () => {
  it('renders a project variable as a value', () => {
    const variables = { country: 'NL', limit: 5, flags: [true, null] };
    expect(render("@VAR('country'), @VAR('LIMIT'), @VAR('flags')", variables)).toBe(
      "'NL', 5, TRUE, NULL",
    );
  });

  it('uses the default when the variable is missing', () => {
    expect(render("@VAR('country', 'US'), @VAR('n', 42)", {})).toBe("'US', 42");
  });

  it('prefers the project variable over the default', () => {
    expect(render("@VAR('n', 42)", { n: 7 })).toBe('7');
  });

  it('fails naming the variable and sluice.yaml when there is no default', () => {
    expect(() => render("SELECT @VAR('countri')", { country: 'NL' })).toThrow(
      "Project variable 'countri' is not defined; add it under variables: in sluice.yaml",
    );
  });
});

describe('@IF', () => {
  it('renders the first branch when the condition holds', () => {
    expect(render("SELECT 1 @IF(@runtime_stage = 'evaluating', + 1)")).toBe('SELECT 1 + 1');
  });

  it('renders the second branch, or nothing, when it does not', () => {
    expect(render("SELECT @IF(@runtime_stage = 'loading', a, b) FROM t")).toBe('SELECT b FROM t');
    expect(render("SELECT a @IF(@gateway = 'local', , b) FROM t")).toBe('SELECT a  FROM t');
  });

  it('works as a whole statement, left out when it renders to nothing', () => {
    const sources = [
      sqlAt("@IF(@runtime_stage = 'evaluating', DELETE FROM t WHERE x > 1)"),
      sqlAt("@IF(@runtime_stage = 'creating', DROP TABLE t)"),
      sqlAt('SELECT 1'),
    ];
    expect(renderStatements(sources, dailyContext())).toEqual([
      'DELETE FROM t WHERE x > 1',
      'SELECT 1',
    ]);
  });

  it('renders only the branch it takes', () => {
    expect(render("@IF(FALSE, @VAR('missing'), 'ok')")).toBe("'ok'");
  });

  it('reads project variables in the condition', () => {
    expect(render("@IF(@VAR('full_refresh'), TRUNCATE t)", { full_refresh: true })).toBe(
      'TRUNCATE t',
    );
    expect(render("@IF(@VAR('full_refresh'), TRUNCATE t)", { full_refresh: false })).toBe('');
  });
});

describe('@EACH', () => {
  it('renders the body once per item of a list literal', () => {
    expect(render('SELECT @EACH([a, b], x -> SUM(x) AS total_x) FROM t')).toBe(
      'SELECT SUM(a) AS total_x, SUM(b) AS total_x FROM t',
    );
  });

  it('quotes string items and substitutes @x and @{x}', () => {
    expect(
      render("SELECT @EACH(('eu', 'us'), r -> COUNT(*) FILTER (WHERE region = @r) AS n_@{r})"),
    ).toBe(
      "SELECT COUNT(*) FILTER (WHERE region = 'eu') AS n_eu, COUNT(*) FILTER (WHERE region = 'us') AS n_us",
    );
  });

  it('iterates a variable holding a list', () => {
    const rendered = renderStatements(
      [sqlAt('@DEF(cols, [amount, tax])'), sqlAt('SELECT @EACH(@cols, c -> MAX(c)) FROM t')],
      dailyContext(),
    );
    expect(rendered).toEqual(['SELECT MAX(amount), MAX(tax) FROM t']);
  });

  it('iterates a project variable holding a list', () => {
    expect(render("@EACH(@VAR('ids'), i -> i * 2)", { ids: [1, 2] })).toBe('1 * 2, 2 * 2');
  });

  it('renders nothing for an empty list', () => {
    expect(render('SELECT 1 @EACH([], x -> x)')).toBe('SELECT 1 ');
  });

  it('does not replace the parameter where it is part of a dotted name', () => {
    expect(render('@EACH([y], x -> t.x + x.z + x)')).toBe('t.x + x.z + y');
  });
});

describe('nesting', () => {
  it('renders macro calls inside arguments', () => {
    const sql = "@EACH([1, 2], n -> @IF(n = 2, @VAR('two', 'second'), 'first'))";
    expect(render(sql)).toBe("'first', 'second'");
  });

  it('splits arguments only at top-level commas, ignoring strings', () => {
    expect(render("@IF(TRUE, COALESCE(a, ','), [x, y])")).toBe("COALESCE(a, ',')");
  });
});
