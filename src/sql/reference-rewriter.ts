import type { TableReference } from './table-reference.js';

/**
 * Replaces table references in `sql`, which must be the text the references were found in.
 * `replacement` returns the new text for a reference, or undefined to keep it as written; all
 * other text, comments and white space included, is kept exactly.
 */
export function rewriteReferences(
  sql: string,
  references: readonly TableReference[],
  replacement: (reference: TableReference) => string | undefined,
): string {
  const byStartDescending = [...references].sort((a, b) => b.start - a.start);

  const pieces: string[] = [];
  let keptFrom = sql.length;
  for (const reference of byStartDescending) {
    // The same occurrence listed twice is replaced once.
    if (reference.end > keptFrom) continue;
    const text = replacement(reference);
    if (text === undefined) continue;
    pieces.push(sql.slice(reference.end, keptFrom), text);
    keptFrom = reference.start;
  }
  pieces.push(sql.slice(0, keptFrom));
  return pieces.reverse().join('');
}
