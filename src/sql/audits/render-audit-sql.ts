/**
 * Renders an audit's query of failing rows: a built-in's template or a SQL audit's query, with
 * `@this_model`, the parameters and the interval's macro variables expanded.
 */

import { SluiceError } from '../../core/errors.js';
import { tokenize } from '../lexer.js';
import type { MacroContext } from '../macro-context.js';
import { MacroRendering } from '../macros/macro-rendering.js';
import { createScope } from '../macros/macro-scope.js';
import { type MacroBinding, parseBinding } from '../macros/macro-values.js';
import { readBuiltInArguments } from './built-in-arguments.js';
import { findBuiltInAudit } from './built-in-audits.js';

/** What rendering reads of an audit: the name, the model's arguments, a SQL audit's query. */
export type RenderableAudit = {
  readonly name: string;
  readonly args: Readonly<Record<string, unknown>>;
  readonly definition:
    | { readonly query: string; readonly defaults: Readonly<Record<string, unknown>> }
    | undefined;
};

/**
 * The SQL selecting the audit's failing rows for model `modelName`, in the context's dialect;
 * `context.thisModel` is what `@this_model` becomes.
 */
export function renderAuditSql(
  audit: RenderableAudit,
  modelName: string,
  context: MacroContext,
): string {
  const label = `Audit '${audit.name}' of model '${modelName}'`;
  if (audit.definition !== undefined) {
    const values = { ...audit.definition.defaults, ...audit.args };
    return expand(audit.definition.query, bindingsOf(values), context, label);
  }

  const builtIn = findBuiltInAudit(audit.name);
  if (builtIn === undefined) {
    throw new SluiceError(
      'audit_invalid',
      `${label} is neither a built-in audit nor carries a definition`,
    );
  }
  const reading = readBuiltInArguments(builtIn.audit, audit.args, label);
  if (reading.problems.length > 0) {
    throw new SluiceError('audit_invalid', reading.problems.join('; '));
  }
  return expand(builtIn.audit.render(reading.args, context.dialect), new Map(), context, label);
}

function expand(
  sql: string,
  bindings: ReadonlyMap<string, MacroBinding>,
  context: MacroContext,
  label: string,
): string {
  const scope = createScope(context);
  for (const [name, binding] of bindings) scope.defined.set(name, binding);
  const source = { sql, file: label, line: 1, column: 1 };
  const tokens = tokenize(sql);
  return new MacroRendering(source, tokens, scope).render({ from: 0, to: tokens.length });
}

/**
 * Parameters as macro variables. A text value is SQL as written in the header (a column name or
 * an expression), so `@column` becomes the column; numbers, booleans and null are literals; a
 * list becomes a list for @EACH. Known shortcoming: the header reader keeps a string literal
 * (`'abc'`) without its quotes, so it renders as the name abc; keeping the literal's kind in
 * AuditReference args would fix it.
 */
function bindingsOf(values: Readonly<Record<string, unknown>>): Map<string, MacroBinding> {
  const bindings = new Map<string, MacroBinding>();
  for (const [name, value] of Object.entries(values)) {
    bindings.set(name.toLowerCase(), parseBinding(sqlTextOf(value)));
  }
  return bindings;
}

function sqlTextOf(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(sqlTextOf).join(', ')}]`;
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  return String(value);
}
