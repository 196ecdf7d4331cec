/**
 * Audits: queries that select a model's bad rows. A model names them in its header
 * (`audits (not_null(columns := (id)))`); each is a built-in or a SQL audit from the project's
 * audits/ folder. An audit passes when its query returns no rows.
 */

import type { Dialect, HeaderLiteral, ModelOrigin, SqlSource } from './model.js';

/** The suffix that turns an audit into its warning-only variant: `not_null_non_blocking`. */
export const NON_BLOCKING_SUFFIX = '_non_blocking';

/**
 * A SQL audit from `audits/*.sql`: SQLMesh's `AUDIT (name ..., dialect ..., blocking ...,
 * defaults (...))` header and one query selecting the failing rows over `@this_model`.
 */
export type AuditDefinition = {
  /** The name, lower-cased as model names are. */
  readonly name: string;
  readonly dialect: Dialect;
  /**
   * A blocking audit that finds rows stops promotion and downstream models; `blocking false` only
   * warns.
   */
  readonly isBlocking: boolean;
  /** Parameter values used when a model's reference leaves them out, by lower-case name. */
  readonly defaults: Readonly<Record<string, HeaderLiteral>>;
  readonly description: string | undefined;
  readonly query: SqlSource;
  readonly origin: ModelOrigin;
};

/** The name without the `_non_blocking` suffix, or undefined when it has none. */
export function blockingNameOf(name: string): string | undefined {
  return name.endsWith(NON_BLOCKING_SUFFIX) && name.length > NON_BLOCKING_SUFFIX.length
    ? name.slice(0, -NON_BLOCKING_SUFFIX.length)
    : undefined;
}

/**
 * An audit as a snapshot keeps it for the tasks that run it: the model's reference (name as
 * written, arguments), whether it blocks and, for a SQL audit, its definition. It has the shape
 * of the protocol's AuditSpec, which tasks carry.
 */
export type AuditSpec = {
  readonly name: string;
  readonly isBlocking: boolean;
  readonly args: Readonly<Record<string, HeaderLiteral>>;
  readonly definition: AuditDefinitionPayload | undefined;
};

/** A SQL audit's definition as it travels: its query, dialect and parameter defaults. */
export type AuditDefinitionPayload = {
  readonly name: string;
  readonly dialect: Dialect;
  readonly query: string;
  readonly defaults: Readonly<Record<string, HeaderLiteral>>;
};
