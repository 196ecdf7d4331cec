import { describe, expect, it } from 'vitest';
import { BUILT_IN_MACRO_VARIABLES, renderSql } from '../../../src/sql/macros/macro-renderer.js';
import { dailyContext, sqlAt } from './macro-test-context.js';

function render(sql: string, overrides: Parameters<typeof dailyContext>[0] = {}): string {
  return renderSql(sqlAt(sql), dailyContext(overrides));
}

const hourly = {
  start: new Date('2024-03-10T05:00:00Z'),
  end: new Date('2024-03-10T06:00:00Z'),
  executionTime: new Date('2024-03-10T07:30:00.250Z'),
};

describe('built-in macro variables', () => {
  it.each([
    ['@start_ds', "'2024-01-01'"],
    ['@start_ts', "'2024-01-01 00:00:00'"],
    ['@start_tstz', "'2024-01-01 00:00:00+00:00'"],
    ['@start_date', "CAST('2024-01-01' AS DATE)"],
    ['@start_dt', "CAST('2024-01-01 00:00:00' AS TIMESTAMP)"],
    ['@start_epoch', '1704067200'],
    ['@start_millis', '1704067200000'],
    ['@end_ds', "'2024-01-01'"],
    ['@end_ts', "'2024-01-01 23:59:59.999999'"],
    ['@end_tstz', "'2024-01-01 23:59:59.999999+00:00'"],
    ['@end_date', "CAST('2024-01-01' AS DATE)"],
    ['@end_dt', "CAST('2024-01-01 23:59:59.999999' AS TIMESTAMP)"],
    ['@end_epoch', '1704153599'],
    ['@end_millis', '1704153599999'],
    ['@execution_ds', "'2024-01-02'"],
    ['@execution_ts', "'2024-01-02 03:04:05.678000'"],
    ['@execution_tstz', "'2024-01-02 03:04:05.678000+00:00'"],
    ['@execution_date', "CAST('2024-01-02' AS DATE)"],
    ['@execution_dt', "CAST('2024-01-02 03:04:05.678000' AS TIMESTAMP)"],
    ['@execution_epoch', '1704164645'],
    ['@execution_millis', '1704164645678'],
  ])('renders %s of a daily interval as %s', (macro, expected) => {
    expect(render(macro)).toBe(expected);
  });

  it.each([
    ['@start_ds', "'2024-03-10'"],
    ['@start_ts', "'2024-03-10 05:00:00'"],
    ['@start_tstz', "'2024-03-10 05:00:00+00:00'"],
    ['@start_date', "CAST('2024-03-10' AS DATE)"],
    ['@start_dt', "CAST('2024-03-10 05:00:00' AS TIMESTAMP)"],
    ['@start_epoch', '1710046800'],
    ['@start_millis', '1710046800000'],
    ['@end_ds', "'2024-03-10'"],
    ['@end_ts', "'2024-03-10 05:59:59.999999'"],
    ['@end_tstz', "'2024-03-10 05:59:59.999999+00:00'"],
    ['@end_date', "CAST('2024-03-10' AS DATE)"],
    ['@end_dt', "CAST('2024-03-10 05:59:59.999999' AS TIMESTAMP)"],
    ['@end_epoch', '1710050399'],
    ['@end_millis', '1710050399999'],
    ['@execution_ds', "'2024-03-10'"],
    ['@execution_ts', "'2024-03-10 07:30:00.250000'"],
    ['@execution_tstz', "'2024-03-10 07:30:00.250000+00:00'"],
    ['@execution_date', "CAST('2024-03-10' AS DATE)"],
    ['@execution_dt', "CAST('2024-03-10 07:30:00.250000' AS TIMESTAMP)"],
    ['@execution_epoch', '1710055800'],
    ['@execution_millis', '1710055800250'],
  ])('renders %s of an hourly interval as %s', (macro, expected) => {
    expect(render(macro, hourly)).toBe(expected);
  });

  it('selects exactly one daily interval with BETWEEN @start_ds AND @end_ds', () => {
    expect(render('WHERE d BETWEEN @start_ds AND @end_ds')).toBe(
      "WHERE d BETWEEN '2024-01-01' AND '2024-01-01'",
    );
  });

  it('ends a month-long interval on its last day', () => {
    const month = {
      start: new Date('2024-02-01T00:00:00Z'),
      end: new Date('2024-03-01T00:00:00Z'),
    };
    expect(render('@start_ds, @end_ds, @end_ts', month)).toBe(
      "'2024-02-01', '2024-02-29', '2024-02-29 23:59:59.999999'",
    );
  });

  it('renders @this_model as is and @runtime_stage and @gateway as strings', () => {
    expect(render('SELECT * FROM @this_model')).toBe('SELECT * FROM "shop"."orders"');
    expect(
      render('@runtime_stage = @gateway', { runtimeStage: 'loading', gateway: "o'neil" }),
    ).toBe("'loading' = 'o''neil'");
  });

  it('reads variable names in any case', () => {
    expect(render('@START_DS, @End_Ds, @{Start_DS}')).toBe(
      "'2024-01-01', '2024-01-01', 2024-01-01",
    );
  });

  it('inserts @{name} without quotes so it can form identifiers', () => {
    expect(render('SELECT * FROM events_@{gateway} AS e_@{runtime_stage}')).toBe(
      'SELECT * FROM events_local AS e_evaluating',
    );
  });

  it('lists every built-in variable name in lower case', () => {
    expect(BUILT_IN_MACRO_VARIABLES).toHaveLength(24);
    expect(BUILT_IN_MACRO_VARIABLES).toContain('end_millis');
    expect(BUILT_IN_MACRO_VARIABLES.every((name) => name === name.toLowerCase())).toBe(true);
    for (const name of BUILT_IN_MACRO_VARIABLES) expect(render(`@${name}`)).not.toContain('@');
  });
});
