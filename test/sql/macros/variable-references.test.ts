import { describe, expect, it } from 'vitest';
import { findVariableReferences } from '../../../src/sql/macros/variable-references.js';

describe('finding the project variables SQL reads', () => {
  it('finds each @VAR name in lower case, once, sorted', () => {
    const references = findVariableReferences([
      "SELECT * FROM t WHERE country = @VAR('Country') AND qty >= @var('min_qty', 1)",
      "@DEF(limit_rows, @VAR('country'))",
    ]);

    expect(references).toEqual({ names: ['country', 'min_qty'], hasComputedName: false });
  });

  it('finds @VAR in defaults, @IF branches and with space before its parenthesis', () => {
    const references = findVariableReferences([
      "SELECT @VAR ('a', @VAR('b')), @IF(@VAR('c') = 1, x, y) FROM t",
    ]);

    expect(references.names).toEqual(['a', 'b', 'c']);
  });

  it('ignores @VAR inside strings, quoted identifiers and comments', () => {
    const references = findVariableReferences([
      "SELECT '@VAR(''a'')' AS \"@VAR('b')\" -- @VAR('c')\n/* @VAR('d') */ FROM t",
    ]);

    expect(references).toEqual({ names: [], hasComputedName: false });
  });

  it('reports a name computed by another macro, which could be any variable', () => {
    expect(findVariableReferences(['SELECT @VAR(@which)']).hasComputedName).toBe(true);
    expect(findVariableReferences(["SELECT @VAR('a' || 'b')"]).hasComputedName).toBe(true);
    expect(findVariableReferences(["SELECT @VAR('a'"]).hasComputedName).toBe(true);
  });

  it('finds nothing in SQL without macros', () => {
    expect(findVariableReferences(['SELECT var FROM t'])).toEqual({
      names: [],
      hasComputedName: false,
    });
  });
});
