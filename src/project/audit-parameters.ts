import { significantTokens } from '../sql/lexer.js';
import { BUILT_IN_MACRO_VARIABLES } from '../sql/macros/macro-renderer.js';

/**
 * The parameters a SQL audit's query reads: each `@name` (or `@{name}`) that is not a built-in
 * macro variable, a macro function call or a variable the query defines with @DEF, lower-cased.
 */
export function findAuditParameters(sql: string): string[] {
  const tokens = significantTokens(sql);
  const defined = new Set<string>();
  const used = new Set<string>();
  tokens.forEach((token, index) => {
    if (token.type !== 'macro') return;
    const name = macroName(token.text);
    const isCall = tokens[index + 1]?.text === '(';
    if (isCall && name === 'def') {
      const defines = tokens[index + 2];
      if (defines?.type === 'identifier') defined.add(defines.text.toLowerCase());
    }
    if (isCall || name === '' || BUILT_IN_MACRO_VARIABLES.includes(name)) return;
    used.add(name);
  });
  return [...used].filter((name) => !defined.has(name)).sort();
}

function macroName(text: string): string {
  const bare = text.startsWith('@{') ? text.slice(2, -1) : text.slice(1);
  return bare.trim().toLowerCase();
}
