/**
 * The variables visible while rendering: @EACH's lambda parameters first, then what @DEF defined
 * (shared by all statements of one model), then the built-ins. Names are lower case.
 */

import type { MacroContext, MacroValue } from '../macro-context.js';
import { bindingOfValue, type MacroBinding } from './macro-values.js';
import { BUILT_IN_MACRO_VARIABLES, builtInBinding } from './macro-variables.js';

/** The variables one rendering sees; `defined` is shared and grows as @DEF statements render. */
export type MacroScope = {
  readonly context: MacroContext;
  readonly defined: Map<string, MacroBinding>;
  readonly lambda: ReadonlyMap<string, MacroBinding>;
  /** Built-ins computed so far, since the same few are used many times. */
  readonly builtIns: Map<string, MacroBinding>;
};

/** A scope with the given definitions (names in any case) and nothing else defined. */
export function createScope(
  context: MacroContext,
  defined: ReadonlyMap<string, MacroValue> = new Map(),
): MacroScope {
  const bindings = new Map<string, MacroBinding>();
  for (const [name, value] of defined) bindings.set(name.toLowerCase(), bindingOfValue(value));
  return { context, defined: bindings, lambda: new Map(), builtIns: new Map() };
}

/** The same scope with one more lambda parameter, for the body of @EACH. */
export function withLambda(scope: MacroScope, name: string, binding: MacroBinding): MacroScope {
  return { ...scope, lambda: new Map([...scope.lambda, [name, binding]]) };
}

/** The binding of a variable (name in lower case), or undefined when it is not defined. */
export function lookupVariable(scope: MacroScope, name: string): MacroBinding | undefined {
  const local = scope.lambda.get(name) ?? scope.defined.get(name);
  if (local !== undefined) return local;

  const cached = scope.builtIns.get(name);
  if (cached !== undefined) return cached;
  const builtIn = builtInBinding(name, scope.context);
  if (builtIn !== undefined) scope.builtIns.set(name, builtIn);
  return builtIn;
}

/** Every variable name the scope knows, for "did you mean" hints. */
export function knownVariableNames(scope: MacroScope): string[] {
  return [...scope.lambda.keys(), ...scope.defined.keys(), ...BUILT_IN_MACRO_VARIABLES];
}
