/**
 * The macro functions Sluice renders: @DEF, @VAR, @IF and @EACH. Each gets its arguments as token
 * ranges and decides itself which to render, so that @IF renders only the branch it takes and
 * @EACH renders its body once per item.
 */

import { didYouMean, SluiceError, type SourceLocation } from '../../core/errors.js';
import type { Token } from '../lexer.js';
import type { MacroValue } from '../macro-context.js';
import { macroUsageError, type SupportedMacroFunction } from './macro-errors.js';
import { isConditionMet } from './macro-expressions.js';
import { type MacroScope, withLambda } from './macro-scope.js';
import { significantIn, skipTrivia, type TokenRange, tokenAt } from './macro-tokens.js';
import {
  bindingOfValue,
  type MacroBinding,
  parseBinding,
  parseLiteral,
  sqlBinding,
} from './macro-values.js';

/** What a macro function needs from the renderer of the statement it is in. */
export type MacroRenderer = {
  readonly scope: MacroScope;
  readonly tokens: readonly Token[];
  /** The range with its macros rendered. */
  render(range: TokenRange): string;
  /** The value of the condition in the range. */
  evaluate(range: TokenRange): MacroValue;
  /** The binding of the macro at `index` and the index of the token after it. */
  expand(index: number, to: number): { binding: MacroBinding; next: number };
  /** A renderer of the same statement that sees another scope. */
  withScope(scope: MacroScope): MacroRenderer;
  locate(offset: number): SourceLocation;
};

/** One call: the `@NAME` token and its arguments, split at top-level commas and trimmed. */
export type MacroCall = { readonly token: Token; readonly args: readonly TokenRange[] };

/** Expands a call of a supported macro function into what it renders to. */
export function callMacroFunction(
  renderer: MacroRenderer,
  name: SupportedMacroFunction,
  call: MacroCall,
): MacroBinding {
  switch (name) {
    case 'def':
      return define(renderer, call);
    case 'var':
      return projectVariable(renderer, call);
    case 'if':
      return conditional(renderer, call);
    case 'each':
      return each(renderer, call);
  }
}

/** `@DEF(name, value)` defines `name` for the rest of the model and renders to nothing. */
function define(renderer: MacroRenderer, call: MacroCall): MacroBinding {
  const [nameRange, valueRange] = call.args;
  const nameTokens = nameRange === undefined ? [] : significantIn(renderer.tokens, nameRange);
  const [nameToken] = nameTokens;
  const isNamed = nameTokens.length === 1 && nameToken?.type === 'identifier';
  if (!isNamed || nameToken === undefined || valueRange === undefined || call.args.length > 2) {
    throw macroUsageError(
      '@DEF takes a name and a value',
      "@DEF(country, 'NL')",
      locationOf(renderer, call),
    );
  }

  const value = parseBinding(renderer.render(valueRange));
  renderer.scope.defined.set(nameToken.text.toLowerCase(), value);
  return sqlBinding('');
}

/** `@VAR('name'[, default])` is a project variable from sluice.yaml. */
function projectVariable(renderer: MacroRenderer, call: MacroCall): MacroBinding {
  const [nameRange, defaultRange] = call.args;
  const name = nameRange === undefined ? undefined : parseLiteral(renderer.render(nameRange));
  if (call.args.length > 2 || typeof name !== 'string') {
    throw macroUsageError(
      "@VAR takes the variable's name as a string",
      "@VAR('country', 'NL')",
      locationOf(renderer, call),
    );
  }

  const variables = renderer.scope.context.variables;
  const key = name.toLowerCase();
  if (Object.hasOwn(variables, key)) return bindingOfValue(variables[key] ?? null);
  if (defaultRange !== undefined) return parseBinding(renderer.render(defaultRange));

  const message =
    `Project variable '${name}' is not defined; add it under variables: in sluice.yaml ` +
    `or give a default, e.g. @VAR('${name}', 'default').${didYouMean(name, Object.keys(variables))}`;
  throw new SluiceError('macro_error', message, { location: locationOf(renderer, call) });
}

/** `@IF(condition, sql[, else_sql])` renders the branch the condition picks, or nothing. */
function conditional(renderer: MacroRenderer, call: MacroCall): MacroBinding {
  const [condition, whenTrue, whenFalse] = call.args;
  if (condition === undefined || whenTrue === undefined || call.args.length > 3) {
    throw macroUsageError(
      '@IF takes a condition, the SQL to use when it holds and optionally the SQL otherwise',
      "@IF(@runtime_stage = 'evaluating', DELETE FROM t WHERE x)",
      locationOf(renderer, call),
    );
  }

  const isMet = isConditionMet(renderer.evaluate(condition), () => locationOf(renderer, call));
  const branch = isMet ? whenTrue : whenFalse;
  return sqlBinding(branch === undefined ? '' : renderer.render(branch));
}

/** `@EACH(list, x -> body)` renders the body once per item, joined with commas. */
function each(renderer: MacroRenderer, call: MacroCall): MacroBinding {
  const usage = '@EACH([a, b], x -> SUM(x) AS total_x)';
  const [listRange, lambdaRange] = call.args;
  if (listRange === undefined || lambdaRange === undefined || call.args.length > 2) {
    throw macroUsageError('@EACH takes a list and a lambda', usage, locationOf(renderer, call));
  }

  const items = listOf(renderer, listRange).items;
  if (items === undefined) {
    throw macroUsageError(
      'The first argument of @EACH must be a list or a variable holding one',
      usage,
      locationOf(renderer, call),
    );
  }
  const lambda = lambdaOf(renderer, lambdaRange);
  if (lambda === undefined) {
    throw macroUsageError(
      'The second argument of @EACH must be a lambda `name -> body`',
      usage,
      locationOf(renderer, call),
    );
  }

  const bodies = items.map((item) =>
    renderer.withScope(withLambda(renderer.scope, lambda.name, item)).render(lambda.body),
  );
  return sqlBinding(bodies.join(', '));
}

/** Where the call starts; computed only for errors, since it scans the text. */
function locationOf(renderer: MacroRenderer, call: MacroCall): SourceLocation {
  return renderer.locate(call.token.start);
}

/** A variable (or other macro) standing alone keeps its items; anything else is read as SQL. */
function listOf(renderer: MacroRenderer, range: TokenRange): MacroBinding {
  const first = skipTrivia(renderer.tokens, range.from, range.to);
  if (first < range.to && tokenAt(renderer.tokens, first).type === 'macro') {
    const expansion = renderer.expand(first, range.to);
    const isAlone = skipTrivia(renderer.tokens, expansion.next, range.to) === range.to;
    if (isAlone) return expansion.binding;
  }
  return parseBinding(renderer.render(range));
}

/** `name -> body`: the parameter's lower-case name and the body's range. */
function lambdaOf(
  renderer: MacroRenderer,
  range: TokenRange,
): { name: string; body: TokenRange } | undefined {
  const { tokens } = renderer;
  const nameAt = skipTrivia(tokens, range.from, range.to);
  const arrowAt = skipTrivia(tokens, nameAt + 1, range.to);
  const [name, arrow] = [tokens[nameAt], tokens[arrowAt]];
  const isLambda = arrowAt < range.to && name?.type === 'identifier' && arrow?.text === '->';
  if (!isLambda) return undefined;
  return {
    name: name.text.toLowerCase(),
    body: { from: skipTrivia(tokens, arrowAt + 1, range.to), to: range.to },
  };
}
