/**
 * Load-time checks of the audits each model names: the audit exists, its arguments are the ones
 * it takes and of the right shape, the SQL audit is written in the model's dialect, and every
 * column it names is a column of the model, when the model's columns are known.
 */

import type { AuditDefinition } from '../core/audit.js';
import { didYouMean, SluiceError } from '../core/errors.js';
import type { AuditReference, ModelDefinition } from '../core/model.js';
import { columnNameOf } from '../sql/audits/audit-arguments.js';
import { readBuiltInArguments } from '../sql/audits/built-in-arguments.js';
import { BUILT_IN_AUDIT_NAMES } from '../sql/audits/built-in-audits.js';
import { readQueryTokens } from '../sql/query-tokens.js';
import { readSelectList } from '../sql/select-list.js';
import { findAuditParameters } from './audit-parameters.js';
import { type ResolvedAudit, resolveAudit } from './audit-resolution.js';

/** Every problem with the audits of one model, located at the model's header. */
export function checkModelAudits(
  model: ModelDefinition,
  audits: ReadonlyMap<string, AuditDefinition>,
): SluiceError[] {
  // Reading the columns lexes the query again: only for models that have audits to check.
  if (model.audits.length === 0) return [];
  const columns = knownColumnsOf(model);
  return model.audits.flatMap((reference) => {
    const label = `Model '${model.name}' audit '${reference.name}'`;
    const resolved = resolveAudit(reference.name, audits);
    const problems =
      resolved === undefined
        ? [unknownAuditProblem(label, reference.name, audits)]
        : [
            ...argumentProblems(label, reference, resolved),
            ...dialectProblems(label, model, resolved),
            ...columnProblems(label, reference, resolved, columns),
          ];
    return problems.map(
      (problem) => new SluiceError('audit_invalid', problem, { location: model.origin }),
    );
  });
}

function unknownAuditProblem(
  label: string,
  name: string,
  audits: ReadonlyMap<string, AuditDefinition>,
): string {
  const candidates = [...BUILT_IN_AUDIT_NAMES, ...audits.keys()];
  const hint = didYouMean(name, candidates);
  const blockingBuiltInNames = BUILT_IN_AUDIT_NAMES.filter(
    (n) => !n.endsWith('_non_blocking'),
  ).join(', ');
  return (
    `${label} is not a built-in audit nor defined in audits/.${hint}` +
    (hint === '' ? ` Built-in audits: ${blockingBuiltInNames}.` : '')
  );
}

function argumentProblems(
  label: string,
  reference: AuditReference,
  resolved: ResolvedAudit,
): readonly string[] {
  if (resolved.type === 'built-in') {
    return readBuiltInArguments(resolved.audit, reference.args, label).problems;
  }
  const { definition } = resolved;
  const used = findAuditParameters(definition.query.sql);
  const known = [...new Set([...Object.keys(definition.defaults), ...used])];
  const problems: string[] = [];
  for (const name of Object.keys(reference.args)) {
    if (known.includes(name)) continue;
    const hint =
      didYouMean(name, known) ||
      (known.length === 0 ? ' It takes none.' : ` Its parameters are ${known.join(', ')}.`);
    problems.push(`${label} has no parameter '${name}'.${hint}`);
  }
  for (const name of used) {
    if (Object.hasOwn(reference.args, name) || Object.hasOwn(definition.defaults, name)) continue;
    problems.push(
      `${label} needs the parameter '${name}', which its query reads as @${name} and its ` +
        `defaults do not set; add \`${name} := ...\``,
    );
  }
  return problems;
}

function dialectProblems(
  label: string,
  model: ModelDefinition,
  resolved: ResolvedAudit,
): readonly string[] {
  if (resolved.type === 'built-in' || resolved.definition.dialect === model.dialect) return [];
  return [
    `${label} is written in ${resolved.definition.dialect} (${resolved.definition.origin.file}) ` +
      `but the model is ${model.dialect}; Sluice does not translate audits between dialects yet, ` +
      "so set the audit's dialect to the model's",
  ];
}

/** Parameters whose values name columns. */
const COLUMN_PARAMETERS = ['column', 'columns'];

function columnProblems(
  label: string,
  reference: AuditReference,
  resolved: ResolvedAudit,
  columns: readonly string[] | undefined,
): readonly string[] {
  if (columns === undefined) return [];
  const problems: string[] = [];
  for (const parameter of COLUMN_PARAMETERS) {
    const value = reference.args[parameter];
    const names = Array.isArray(value) ? value : value === undefined ? [] : [value];
    for (const written of names) {
      const name = columnNameOf(written);
      if (name === undefined || hasColumn(columns, name)) continue;
      if (resolved.type === 'sql' && typeof written !== 'string') continue;
      problems.push(
        `${label} names column '${name}', which the model does not have; its columns are ` +
          `${columns.join(', ')}`,
      );
    }
  }
  return problems;
}

function hasColumn(columns: readonly string[], name: string): boolean {
  const lower = name.toLowerCase();
  return columns.some((column) => column.toLowerCase() === lower);
}

/**
 * The model's columns: the declared ones, else the output names of its query's select list.
 * Undefined when they cannot be known without running the query: a `*`, an expression without
 * an alias, or a query whose select list cannot be read.
 */
export function knownColumnsOf(model: ModelDefinition): readonly string[] | undefined {
  if (model.columns.length > 0) return model.columns.map((column) => column.name);
  if (model.query === undefined) return undefined;

  const tokens = readQueryTokens(model.query.sql);
  if (tokens.kind !== 'tokens') return undefined;
  const list = readSelectList(tokens.query);
  if (list.kind !== 'select') return undefined;
  const names: string[] = [];
  for (const item of list.list.items) {
    if (item.expandsColumns || item.name === undefined) return undefined;
    names.push(item.name);
  }
  return names;
}
