import { type AuditDefinition, blockingNameOf } from '../core/audit.js';
import { type BuiltInAudit, findBuiltInAudit } from '../sql/audits/built-in-audits.js';

/** What an audit name in a model's header refers to, and whether the audit blocks. */
export type ResolvedAudit =
  | { readonly type: 'built-in'; readonly audit: BuiltInAudit; readonly isBlocking: boolean }
  | { readonly type: 'sql'; readonly definition: AuditDefinition; readonly isBlocking: boolean };

/**
 * Resolves an audit name: a built-in or its `_non_blocking` variant, else a SQL audit of that
 * exact name, else a SQL audit's `_non_blocking` variant (which never blocks, whatever its
 * header says). Undefined when nothing has the name.
 */
export function resolveAudit(
  name: string,
  audits: ReadonlyMap<string, AuditDefinition>,
): ResolvedAudit | undefined {
  const builtIn = findBuiltInAudit(name);
  if (builtIn !== undefined) return { type: 'built-in', ...builtIn };

  const exact = audits.get(name);
  if (exact !== undefined) return { type: 'sql', definition: exact, isBlocking: exact.isBlocking };
  const blockingName = blockingNameOf(name);
  const variant = blockingName === undefined ? undefined : audits.get(blockingName);
  return variant === undefined
    ? undefined
    : { type: 'sql', definition: variant, isBlocking: false };
}
