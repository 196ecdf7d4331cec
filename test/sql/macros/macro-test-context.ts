import type { SqlSource } from '../../../src/core/model.js';
import type { MacroContext } from '../../../src/sql/macro-context.js';

/** A context for one daily interval, 2024-01-01, executed the next morning. */
export function dailyContext(overrides: Partial<MacroContext> = {}): MacroContext {
  return {
    dialect: 'duckdb',
    start: new Date('2024-01-01T00:00:00Z'),
    end: new Date('2024-01-02T00:00:00Z'),
    executionTime: new Date('2024-01-02T03:04:05.678Z'),
    runtimeStage: 'evaluating',
    gateway: 'local',
    thisModel: '"shop"."orders"',
    variables: {},
    ...overrides,
  };
}

/** SQL text as if it started at line 1, column 1 of `models/test.sql`. */
export function sqlAt(sql: string, line = 1, column = 1): SqlSource {
  return { sql, file: 'models/test.sql', line, column };
}
