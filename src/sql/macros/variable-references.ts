/**
 * Finds the project variables a model's SQL reads with `@VAR('name')`, without rendering it, so
 * that a model's version can cover the values of exactly the variables it uses. Every @VAR call in
 * the text counts, including one in an @IF branch that is not taken, which errs on the side of a
 * new version rather than a stale one.
 */

import { tokenize } from '../lexer.js';
import {
  isPunctuation,
  matchingClose,
  significantIn,
  skipTrivia,
  splitArguments,
} from './macro-tokens.js';
import { literalOfToken } from './macro-values.js';

/** A cheap test that spares lexing the many texts without any @VAR. */
const MAY_CALL_VAR = /@var/i;

/** The project variables some SQL texts read with @VAR. */
export type VariableReferences = {
  /** Lower-case names of the variables named by a string literal, sorted. */
  readonly names: readonly string[];
  /**
   * Whether some @VAR computes its name (`@VAR(@name_var)`): its name is known only when the SQL
   * is rendered, so any project variable may be read.
   */
  readonly hasComputedName: boolean;
};

/** The variables that @VAR calls in the texts name; see `hasComputedName` for the other calls. */
export function findVariableReferences(texts: readonly string[]): VariableReferences {
  const names = new Set<string>();
  let hasComputedName = false;
  for (const text of texts) {
    if (!MAY_CALL_VAR.test(text)) continue;
    for (const name of variableNamesIn(text)) {
      if (name === undefined) hasComputedName = true;
      else names.add(name);
    }
  }
  return { names: [...names].sort(), hasComputedName };
}

/** The first argument of each @VAR call in the text: its name, or undefined when computed. */
function variableNamesIn(text: string): (string | undefined)[] {
  const tokens = tokenize(text);
  const names: (string | undefined)[] = [];
  tokens.forEach((token, index) => {
    if (token.type !== 'macro' || token.text.toLowerCase() !== '@var') return;

    const open = skipTrivia(tokens, index + 1, tokens.length);
    if (!isPunctuation(tokens[open], '(')) return;
    const close = matchingClose(tokens, open, tokens.length);
    if (close === -1) {
      names.push(undefined);
      return;
    }
    const [nameRange] = splitArguments(tokens, { from: open + 1, to: close });
    const nameTokens = nameRange === undefined ? [] : significantIn(tokens, nameRange);

    const [only] = nameTokens;
    const name = nameTokens.length === 1 && only !== undefined ? literalOfToken(only) : undefined;
    names.push(typeof name === 'string' ? name.toLowerCase() : undefined);
  });
  return names;
}
