import { describe, expect, it } from 'vitest';
import { findImports } from '../../tools/import-scanner.mjs';

const specifiers = (source: string): string[] =>
  findImports(source).map((found) => found.specifier);

describe('findImports', () => {
  it('finds every import form with its kind', () => {
    const source = [
      "import a from 'a';",
      "import type { B } from 'b';",
      "import * as c from 'c';",
      "import 'd';",
      "export * from 'e';",
      "export type { F } from 'f';",
      "const g = await import('g');",
      "const h = require('h');",
    ].join('\n');

    expect(findImports(source).map((found) => [found.specifier, found.kind])).toEqual([
      ['a', 'import'],
      ['b', 'import'],
      ['c', 'import'],
      ['d', 'import'],
      ['e', 'export'],
      ['f', 'export'],
      ['g', 'dynamic'],
      ['h', 'require'],
    ]);
  });

  it('reports the line of the specifier in a declaration that spans lines', () => {
    const source = "import {\n  a,\n  b,\n} from 'x';\n";

    expect(findImports(source)).toEqual([{ specifier: 'x', line: 4, kind: 'import' }]);
  });

  it('ignores imports inside comments, strings and templates', () => {
    const source = [
      "// import a from 'a';",
      "/* export * from 'b'; */",
      'const c = "import c from \'c\'";',
      "const d = `require('d') ${'import(\"e\")'}`;",
    ].join('\n');

    expect(specifiers(source)).toEqual([]);
  });

  it('keeps scanning after regular expressions that contain quotes and slashes', () => {
    const source = "const quote = /['\"`/]/g;\nimport x from 'after-regex';";

    expect(specifiers(source)).toEqual(['after-regex']);
  });

  it('treats a slash after a value as division, not as a regular expression', () => {
    const source = "const half = total / 2; const q = '/';\nimport x from 'after-division';";

    expect(specifiers(source)).toEqual(['after-division']);
  });

  it('finds imports inside template substitutions', () => {
    const source = "const text = `${await import('inner')} and ${`${require('deep')}`}`;";

    expect(specifiers(source)).toEqual(['inner', 'deep']);
  });

  it('ignores import.meta, methods named import and require.resolve', () => {
    const source = "import.meta.url; loader.import('a'); require.resolve('b'); x?.require('c');";

    expect(specifiers(source)).toEqual([]);
  });

  it('finds a require behind a spread and a TypeScript import assignment', () => {
    const source = "const all = { ...require('spread') };\nimport fs = require('assigned');";

    expect(specifiers(source)).toEqual(['spread', 'assigned']);
  });

  it('does not mistake a local export or a type named from for a re-export', () => {
    const source = "export { from };\nexport type From = { from: 'x' };\nexport const y = 'z';";

    expect(specifiers(source)).toEqual([]);
  });
});
