/**
 * The macro functions Sluice knows, and the errors for macros it cannot render: an undefined
 * variable, a SQLMesh macro function not supported yet, or a call of an unknown function.
 */

import { didYouMean, SluiceError, type SourceLocation } from '../../core/errors.js';
import { BUILT_IN_MACRO_VARIABLES } from './macro-variables.js';

/** The macro functions Sluice renders, in lower case. */
export const SUPPORTED_MACRO_FUNCTIONS = ['def', 'var', 'if', 'each'] as const;

export type SupportedMacroFunction = (typeof SUPPORTED_MACRO_FUNCTIONS)[number];

/** SQLMesh's other macro functions, reported by name as not supported yet. */
const UNSUPPORTED_MACRO_FUNCTIONS: ReadonlySet<string> = new Set([
  'star',
  'generate_surrogate_key',
  'safe_add',
  'safe_sub',
  'safe_div',
  'union',
  'haversine_distance',
  'pivot',
  'deduplicate',
  'date_spine',
  'resolve_template',
  'and',
  'or',
  'reduce',
  'filter',
  'sql',
  'eval',
  'with',
  'join',
  'where',
  'group_by',
  'having',
  'order_by',
  'limit',
  'table_name',
]);

const SUPPORTED_LIST = '@DEF, @VAR, @IF and @EACH';

/** Whether a lower-case name is a macro function Sluice renders. */
export function isSupportedMacroFunction(name: string): name is SupportedMacroFunction {
  return (SUPPORTED_MACRO_FUNCTIONS as readonly string[]).includes(name);
}

/** Whether a lower-case name is a SQLMesh macro function that Sluice does not render yet. */
export function isUnsupportedMacroFunction(name: string): boolean {
  return UNSUPPORTED_MACRO_FUNCTIONS.has(name);
}

/** `@name` is neither defined with @DEF nor a built-in variable. */
export function unknownVariableError(
  name: string,
  knownNames: readonly string[],
  location: SourceLocation,
): SluiceError {
  const builtIns = BUILT_IN_MACRO_VARIABLES.map((builtIn) => `@${builtIn}`).join(', ');
  const hint = didYouMean(
    `@${name}`,
    knownNames.map((known) => `@${known}`),
  );
  const message =
    `Macro variable '@${name}' is not defined; define it with @DEF(${name}, ...) ` +
    `or use one of ${builtIns}.${hint}`;
  return new SluiceError('macro_error', message, { location });
}

/** A SQLMesh macro function that Sluice knows by name but does not render yet. */
export function unsupportedMacroError(name: string, location: SourceLocation): SluiceError {
  const message =
    `Macro @${name.toUpperCase()} is not supported yet; ` +
    `Sluice supports the macro functions ${SUPPORTED_LIST}`;
  return new SluiceError('model_not_supported', message, { location });
}

/** A call `@name(...)` of a function nobody defines. */
export function unknownFunctionError(name: string, location: SourceLocation): SluiceError {
  const upper = name.toUpperCase();
  const hint = didYouMean(
    `@${upper}`,
    SUPPORTED_MACRO_FUNCTIONS.map((known) => `@${known.toUpperCase()}`),
  );
  const message = `Macro @${upper} is not defined; Sluice supports the macro functions ${SUPPORTED_LIST}.${hint}`;
  return new SluiceError('macro_error', message, { location });
}

/** A macro used with the wrong arguments; `usage` shows a correct call. */
export function macroUsageError(
  message: string,
  usage: string,
  location: SourceLocation,
): SluiceError {
  return new SluiceError('macro_error', `${message}, e.g. ${usage}`, { location });
}
