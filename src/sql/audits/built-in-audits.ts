/**
 * The built-in audits, with SQLMesh's names and parameters. Each renders a query selecting the
 * failing rows over `@this_model`, valid on DuckDB and PostgreSQL; its `_non_blocking` variant runs
 * the same query and only warns.
 */

import { blockingNameOf } from '../../core/audit.js';
import type { Dialect } from '../../core/model.js';
import { quoteIdentifier } from '../dialect.js';
import type { ArgumentValue, AuditParameter } from './audit-arguments.js';

/** Read arguments by parameter name; optional ones may be absent. */
export type ReadArguments = Readonly<Record<string, ArgumentValue>>;

/** A built-in audit: its parameters and the query of failing rows it renders from them. */
export type BuiltInAudit = {
  readonly name: string;
  readonly parameters: Readonly<Record<string, AuditParameter>>;
  /** Parameters of which at least one must be given, beyond the required ones. */
  readonly needsOneOf?: readonly string[];
  /** The failing rows, over the text `@this_model`. */
  render(args: ReadArguments, dialect: Dialect): string;
};

const required = (shape: AuditParameter['shape']): AuditParameter => ({ shape, isRequired: true });
const optional = (shape: AuditParameter['shape']): AuditParameter => ({ shape, isRequired: false });

const BUILT_IN_AUDIT_LIST: readonly BuiltInAudit[] = [
  {
    name: 'not_null',
    parameters: { columns: required('columns') },
    render: (args, dialect) =>
      `SELECT * FROM @this_model WHERE ${anyOf(columns(args, dialect), (c) => `${c} IS NULL`)}`,
  },
  {
    name: 'unique_values',
    parameters: { columns: required('columns') },
    render: (args, dialect) => {
      const quoted = columns(args, dialect);
      const ranks = quoted.map(
        (column, index) =>
          `ROW_NUMBER() OVER (PARTITION BY ${column} ORDER BY ${column}) ` +
          `AS sluice_rank_${index + 1}`,
      );
      const isRepeated = quoted.map((_, index) => `sluice_rank_${index + 1} > 1`).join(' OR ');
      return (
        `SELECT * FROM (SELECT *, ${ranks.join(', ')} FROM @this_model) AS sluice_ranked ` +
        `WHERE ${isRepeated}`
      );
    },
  },
  {
    name: 'unique_combination_of_columns',
    parameters: { columns: required('columns') },
    render: (args, dialect) => {
      const list = columns(args, dialect).join(', ');
      return (
        `SELECT ${list}, COUNT(*) AS sluice_row_count FROM @this_model ` +
        `GROUP BY ${list} HAVING COUNT(*) > 1`
      );
    },
  },
  {
    name: 'accepted_values',
    parameters: { column: required('column'), is_in: required('values') },
    render: (args, dialect) => {
      const values = texts(args, 'is_in').join(', ');
      return `SELECT * FROM @this_model WHERE ${column(args, dialect)} NOT IN (${values})`;
    },
  },
  {
    name: 'accepted_range',
    parameters: {
      column: required('column'),
      min_v: optional('value'),
      max_v: optional('value'),
      inclusive: optional('boolean'),
    },
    needsOneOf: ['min_v', 'max_v'],
    render: (args, dialect) => {
      const quoted = column(args, dialect);
      const isInclusive = args.inclusive !== false;
      const outside = [
        typeof args.min_v === 'string' ? `${quoted} ${isInclusive ? '<' : '<='} ${args.min_v}` : '',
        typeof args.max_v === 'string' ? `${quoted} ${isInclusive ? '>' : '>='} ${args.max_v}` : '',
      ].filter((condition) => condition !== '');
      return `SELECT * FROM @this_model WHERE ${outside.join(' OR ')}`;
    },
  },
  {
    name: 'number_of_rows',
    parameters: { threshold: required('count') },
    render: (args) => {
      const threshold = Number(args.threshold);
      return (
        'SELECT COUNT(*) AS row_count FROM ' +
        `(SELECT 1 AS sluice_one FROM @this_model LIMIT ${threshold + 1}) AS sluice_rows ` +
        `HAVING COUNT(*) <= ${threshold}`
      );
    },
  },
  {
    name: 'forall',
    parameters: { criteria: required('expressions') },
    render: (args) =>
      `SELECT * FROM @this_model WHERE ${anyOf(texts(args, 'criteria'), (c) => `NOT (${c})`)}`,
  },
];

/** The built-in audits by name, without their `_non_blocking` variants. */
export const BUILT_IN_AUDITS: ReadonlyMap<string, BuiltInAudit> = new Map(
  BUILT_IN_AUDIT_LIST.map((audit) => [audit.name, audit]),
);

/** Every built-in name a model may use, the `_non_blocking` variants included. */
export const BUILT_IN_AUDIT_NAMES: readonly string[] = BUILT_IN_AUDIT_LIST.flatMap((audit) => [
  audit.name,
  `${audit.name}_non_blocking`,
]);

/** The built-in audit a name refers to, and whether it blocks; undefined for other names. */
export function findBuiltInAudit(
  name: string,
): { readonly audit: BuiltInAudit; readonly isBlocking: boolean } | undefined {
  const exact = BUILT_IN_AUDITS.get(name);
  if (exact !== undefined) return { audit: exact, isBlocking: true };
  const blockingName = blockingNameOf(name);
  const variant = blockingName === undefined ? undefined : BUILT_IN_AUDITS.get(blockingName);
  return variant === undefined ? undefined : { audit: variant, isBlocking: false };
}

function columns(args: ReadArguments, dialect: Dialect): string[] {
  return texts(args, 'columns').map((name) => quoteIdentifier(dialect, name));
}

function column(args: ReadArguments, dialect: Dialect): string {
  return quoteIdentifier(dialect, String(args.column));
}

function texts(args: ReadArguments, name: string): readonly string[] {
  const value = args[name];
  return Array.isArray(value) ? (value as readonly string[]) : [];
}

function anyOf(items: readonly string[], condition: (item: string) => string): string {
  return items.map(condition).join(' OR ');
}
