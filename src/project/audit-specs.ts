import type { AuditDefinition, AuditSpec } from '../core/audit.js';
import type { Model } from '../core/model.js';
import { resolveAudit } from './audit-resolution.js';

/**
 * The audits a model references, as tasks carry them: name, arguments, whether each blocks and,
 * for a SQL audit, its definition. A reference that resolves to nothing (loading reports it) is
 * left out.
 */
export function auditSpecsOf(
  model: Model,
  audits: ReadonlyMap<string, AuditDefinition>,
): AuditSpec[] {
  return model.audits.flatMap((reference) => {
    const resolved = resolveAudit(reference.name, audits);
    if (resolved === undefined) return [];
    const definition =
      resolved.type === 'built-in'
        ? undefined
        : {
            name: resolved.definition.name,
            dialect: resolved.definition.dialect,
            query: resolved.definition.query.sql,
            defaults: resolved.definition.defaults,
          };
    return [
      { name: reference.name, isBlocking: resolved.isBlocking, args: reference.args, definition },
    ];
  });
}
