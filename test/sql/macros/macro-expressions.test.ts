import { describe, expect, it } from 'vitest';
import type { MacroValue } from '../../../src/sql/macro-context.js';
import { renderSql } from '../../../src/sql/macros/macro-renderer.js';
import { dailyContext, sqlAt } from './macro-test-context.js';

/** Whether @IF takes its first branch for the condition. */
function holds(condition: string, variables: Record<string, MacroValue> = {}): boolean {
  const rendered = renderSql(sqlAt(`@IF(${condition}, yes, no)`), dailyContext({ variables }));
  if (rendered !== 'yes' && rendered !== 'no') throw new Error(`unexpected rendering ${rendered}`);
  return rendered === 'yes';
}

describe('@IF conditions', () => {
  it.each([
    ["'a' = 'a'", true],
    ["'a' != 'b'", true],
    ["'a' <> 'a'", false],
    ['1 < 2', true],
    ['2 <= 2', true],
    ['3 > 10', false],
    ['-1 >= -2', true],
    ['@start_epoch=-1', false],
    ['@start_ds < @execution_ds', true],
    ["@start_date = '2024-01-01'", true],
    ['@end_millis - 1', 'error'],
  ])('evaluates %s', (condition, expected) => {
    if (expected === 'error') expect(() => holds(condition)).toThrow(/cannot use '-'/);
    else expect(holds(condition)).toBe(expected);
  });

  it('combines with AND, OR, NOT and parentheses, AND binding tighter than OR', () => {
    expect(holds('TRUE OR FALSE AND FALSE')).toBe(true);
    expect(holds('(TRUE OR FALSE) AND FALSE')).toBe(false);
    expect(holds('NOT 1 = 2 and not false')).toBe(true);
  });

  it('follows three-valued logic for NULL', () => {
    expect(holds('NULL = NULL')).toBe(false);
    expect(holds('NOT (NULL = 1)')).toBe(false);
    expect(holds('NULL OR TRUE')).toBe(true);
    expect(holds('NULL AND FALSE OR TRUE')).toBe(true);
    expect(holds("@VAR('x') IS NULL", { x: null })).toBe(true);
    expect(holds("@VAR('x') IS NOT NULL", { x: 0 })).toBe(true);
  });

  it('tests membership with IN and NOT IN, including list variables', () => {
    expect(holds("@runtime_stage IN ('loading', 'evaluating')")).toBe(true);
    expect(holds("@runtime_stage NOT IN ('loading', 'creating')")).toBe(true);
    expect(
      holds("@VAR('region') IN (@VAR('regions'))", { region: 'us', regions: ['eu', 'us'] }),
    ).toBe(true);
    expect(holds('2 NOT IN (1, NULL)')).toBe(false);
  });

  it('treats numbers as flags, zero being false', () => {
    expect(holds("@VAR('flag')", { flag: 1 })).toBe(true);
    expect(holds("@VAR('flag')", { flag: 0 })).toBe(false);
  });

  it('reads variables defined as SQL literals and lambda parameters', () => {
    const sql = "@EACH(['a', 'b'], x -> @IF(x = 'b', big, small))";
    expect(renderSql(sqlAt(sql), dailyContext())).toBe('small, big');
  });

  it('names what is supported when a condition uses anything else', () => {
    expect(() => holds('my_column = 1')).toThrow(
      "The @IF condition cannot use 'my_column'; conditions support literals, macro variables, =, !=",
    );
    expect(() => holds("1 LIKE '1'")).toThrow(/cannot use 'LIKE'.*IS NOT NULL and IN \(\.\.\.\)/);
  });

  it('refuses to compare values of different types', () => {
    expect(() => holds("1 = '1'")).toThrow(
      "The @IF condition compares the number 1 with the string '1'; compare values of the same type",
    );
  });

  it('refuses a string as the whole condition', () => {
    expect(() => holds("@VAR('mode')", { mode: 'full' })).toThrow(
      "The @IF condition must be true or false, but it is the string 'full'",
    );
  });

  it('reports a condition that ends early and an empty condition', () => {
    expect(() => holds('1 =')).toThrow('The @IF condition ends where a value was expected');
    expect(() => holds('1 IN 2')).toThrow(
      "The @IF condition cannot use '2' where '(' was expected",
    );
    expect(() => renderSql(sqlAt('@IF(, x)'), dailyContext())).toThrow(
      'The @IF condition is empty',
    );
  });
});
