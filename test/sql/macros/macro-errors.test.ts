import { describe, expect, it } from 'vitest';
import { SluiceError } from '../../../src/core/errors.js';
import { renderSql, renderStatements } from '../../../src/sql/macros/macro-renderer.js';
import { dailyContext, sqlAt } from './macro-test-context.js';

/** The SluiceError that rendering the SQL throws. */
function failure(sql: string, line = 1, column = 1): SluiceError {
  try {
    renderSql(sqlAt(sql, line, column), dailyContext());
  } catch (error) {
    if (error instanceof SluiceError) return error;
    throw error;
  }
  throw new Error(`rendering ${sql} did not fail`);
}

describe('macro errors', () => {
  it('names an unknown variable, how to define it and the closest built-in', () => {
    const error = failure('SELECT @strat_ds');
    expect(error.code).toBe('macro_error');
    expect(error.message).toContain(
      "Macro variable '@strat_ds' is not defined; define it with @DEF(strat_ds, ...) or use one of @start_ds, @start_ts,",
    );
    expect(error.message).toMatch(/Did you mean '@start_ds'\?$/);
  });

  it('suggests variables defined with @DEF', () => {
    const context = dailyContext();
    const render = () =>
      renderStatements([sqlAt('@DEF(country, 1)'), sqlAt('SELECT @countyr')], context);
    expect(render).toThrow("Did you mean '@country'?");
  });

  it('reports a SQLMesh macro function that is not supported yet by name', () => {
    for (const sql of [
      'SELECT @STAR(t) FROM t',
      'SELECT @generate_surrogate_key(a, b)',
      '@union(x)',
    ]) {
      const error = failure(sql);
      expect(error.code).toBe('model_not_supported');
      expect(error.message).toMatch(
        /^Macro @(STAR|GENERATE_SURROGATE_KEY|UNION) is not supported yet/,
      );
      expect(error.message).toContain('@DEF, @VAR, @IF and @EACH');
    }
  });

  it('suggests a supported function for an unknown call', () => {
    const error = failure('SELECT @EACHH([a], x -> x)');
    expect(error.code).toBe('macro_error');
    expect(error.message).toBe(
      "Macro @EACHH is not defined; Sluice supports the macro functions @DEF, @VAR, @IF and @EACH. Did you mean '@EACH'?",
    );
  });

  it('locates a macro on the first line from the column where the statement starts', () => {
    const error = failure('SELECT @nope', 4, 3);
    expect(error.location).toEqual({ file: 'models/test.sql', line: 4, column: 10 });
  });

  it('locates a macro on a later line from the start of that line', () => {
    const error = failure("SELECT 1\nFROM t\n  WHERE '@x' = @STAR(y)", 10, 5);
    expect(error.location).toEqual({ file: 'models/test.sql', line: 12, column: 16 });
  });

  it('locates errors inside nested arguments and conditions', () => {
    expect(failure('@IF(TRUE,\n  @EACH([a], x -> @oops))').location).toMatchObject({
      line: 2,
      column: 19,
    });
    expect(failure('@IF(1 = 1 AND\n zz, a)').location).toMatchObject({ line: 2, column: 2 });
  });

  it('explains malformed calls with an example', () => {
    expect(failure('@DEF(1, 2)').message).toBe(
      "@DEF takes a name and a value, e.g. @DEF(country, 'NL')",
    );
    expect(failure('@VAR(x)').message).toContain("@VAR takes the variable's name as a string");
    expect(failure('@EACH(1, x -> x)').message).toContain(
      'The first argument of @EACH must be a list',
    );
    expect(failure('@EACH([1], x)').message).toContain('must be a lambda `name -> body`');
    expect(failure('SELECT @IF').message).toContain('Macro @IF needs its arguments in parentheses');
    expect(failure('SELECT @IF(TRUE, (a)').message).toContain('is missing its closing parenthesis');
    expect(failure('SELECT @{start_ds').message).toContain('is missing its closing brace');
  });
});
