/**
 * How an audit's arguments are read: each parameter has a shape (a list of columns, one column,
 * literal values, a flag, a count, SQL expressions), and a value written in a model header (or
 * carried by a task as JSON) is read into that shape or rejected with the reason.
 */

import { quoteSqlString } from '../macros/macro-values.js';

/** The shape a parameter's value must have. */
export type ParameterShape =
  | 'columns'
  | 'column'
  | 'values'
  | 'value'
  | 'boolean'
  | 'count'
  | 'expressions';

/** A parameter of a built-in audit. */
export type AuditParameter = { readonly shape: ParameterShape; readonly isRequired: boolean };

/**
 * A value read into its shape: column names (normalised) for `columns` and `column`, SQL literal
 * texts for `values` and `value`, SQL expression texts for `expressions`.
 */
export type ArgumentValue = readonly string[] | string | number | boolean;

/** A read value, or why the written one does not fit the shape. */
export type ArgumentReading =
  | { readonly isValid: true; readonly value: ArgumentValue }
  | { readonly isValid: false; readonly expected: string };

const EXPECTED: Readonly<Record<ParameterShape, string>> = {
  columns: 'a list of column names such as (id, name)',
  column: 'one column name such as id',
  values: "a list of values such as ('a', 'b')",
  value: "a number or a string such as 0 or '2024-01-01'",
  boolean: 'true or false',
  count: 'a non-negative whole number',
  expressions: 'a SQL condition or a list of them such as (amount > 0)',
};

/** Reads one argument into the parameter's shape. */
export function readArgument(shape: ParameterShape, value: unknown): ArgumentReading {
  const read = READERS[shape](value);
  return read === undefined
    ? { isValid: false, expected: EXPECTED[shape] }
    : { isValid: true, value: read };
}

const READERS: Readonly<Record<ParameterShape, (value: unknown) => ArgumentValue | undefined>> = {
  columns: (value) => (Array.isArray(value) ? allOrNothing(value, columnNameOf) : undefined),
  column: (value) => columnNameOf(value),
  values: (value) => (Array.isArray(value) ? allOrNothing(value, literalSqlOf) : undefined),
  value: (value) => literalSqlOf(value),
  boolean: (value) => (typeof value === 'boolean' ? value : undefined),
  count: (value) =>
    typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : undefined,
  expressions: (value) =>
    Array.isArray(value) ? allOrNothing(value, expressionOf) : allOrNothing([value], expressionOf),
};

const UNQUOTED_NAME = /^[A-Za-z_][A-Za-z0-9_$]*$/;

/**
 * A column name as a header writes it: `order_id` (lower-cased, as unquoted names are) or
 * `"Order Id"` (kept as written). Undefined for anything else.
 */
export function columnNameOf(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (UNQUOTED_NAME.test(text)) return text.toLowerCase();
  const isQuoted = text.length >= 2 && text.startsWith('"') && text.endsWith('"');
  const inner = text.slice(1, -1);
  if (!isQuoted || inner.replaceAll('""', '').includes('"') || inner === '') return undefined;
  return inner.replaceAll('""', '"');
}

/** A literal as SQL: strings quoted, numbers and booleans as written, null as NULL. */
export function literalSqlOf(value: unknown): string | undefined {
  if (typeof value === 'string') return quoteSqlString(value);
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  if (value === null) return 'NULL';
  return undefined;
}

function expressionOf(value: unknown): string | undefined {
  if (typeof value === 'string' && value.trim() !== '') return value.trim();
  if (typeof value === 'number' || typeof value === 'boolean') return String(value).toUpperCase();
  return undefined;
}

function allOrNothing(
  values: readonly unknown[],
  read: (value: unknown) => string | undefined,
): string[] | undefined {
  const texts: string[] = [];
  for (const value of values) {
    const text = read(value);
    if (text === undefined) return undefined;
    texts.push(text);
  }
  return texts.length === 0 ? undefined : texts;
}
