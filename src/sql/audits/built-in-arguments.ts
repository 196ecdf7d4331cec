import { didYouMean } from '../../core/errors.js';
import { type ArgumentValue, readArgument } from './audit-arguments.js';
import type { BuiltInAudit, ReadArguments } from './built-in-audits.js';

/** A built-in audit's arguments read into their shapes, and what was wrong with them. */
export type BuiltInArgumentsReading = {
  readonly args: ReadArguments;
  /** Sentences naming each unknown, missing or ill-shaped argument; empty when all are fine. */
  readonly problems: readonly string[];
};

/**
 * Reads a model's arguments for a built-in audit: every required parameter given, no unknown
 * ones, each value of its parameter's shape. `label` names the audit in the problems
 * (`audit 'not_null'`).
 */
export function readBuiltInArguments(
  audit: BuiltInAudit,
  given: Readonly<Record<string, unknown>>,
  label: string,
): BuiltInArgumentsReading {
  const args: Record<string, ArgumentValue> = {};
  const problems: string[] = [];
  const known = Object.keys(audit.parameters);

  for (const [name, value] of Object.entries(given)) {
    const parameter = audit.parameters[name];
    if (parameter === undefined) {
      const hint = didYouMean(name, known) || ` Its parameters are ${known.join(', ')}.`;
      problems.push(`${label} has no parameter '${name}'.${hint}`);
      continue;
    }
    const reading = readArgument(parameter.shape, value);
    if (reading.isValid) args[name] = reading.value;
    else problems.push(`${label} takes ${reading.expected} for '${name}'`);
  }

  for (const [name, parameter] of Object.entries(audit.parameters)) {
    if (parameter.isRequired && !Object.hasOwn(given, name)) {
      problems.push(`${label} needs the parameter '${name}'; add \`${name} := ...\``);
    }
  }
  const oneOf = audit.needsOneOf ?? [];
  if (oneOf.length > 0 && !oneOf.some((name) => Object.hasOwn(given, name))) {
    problems.push(`${label} needs at least one of ${oneOf.map((name) => `'${name}'`).join(', ')}`);
  }
  return { args, problems };
}
