import type { AuditSpec } from '../core/audit.js';
import { type ModelFingerprint, sha256Hex } from '../core/fingerprint.js';
import { physicalTableOf } from '../core/physical-table.js';
import { type Snapshot, snapshotIdOf, upkeepOf } from '../core/snapshot.js';
import { type JsonValue, stableJson } from '../core/stable-json.js';
import { canonicalSql } from '../sql/canonical-sql.js';
import { auditSpecsOf } from './audit-specs.js';
import { fingerprintProject, variablesReadBy } from './model-fingerprints.js';
import type { Project } from './project.js';

/**
 * The snapshots of a project as it is on disk: one per model, external ones included, each with
 * its fingerprint and, for models that have one, its version's physical table named within the
 * engine's identifier limit.
 */
export async function snapshotsOfProject(
  project: Project,
  identifierLimitBytes: number | undefined,
): Promise<Map<string, Snapshot>> {
  const fingerprints = await fingerprintProject(project);
  const snapshots = new Map<string, Snapshot>();
  for (const [name, model] of project.models) {
    const fingerprint = fingerprints.get(name);
    if (fingerprint === undefined) continue;
    const variables = variablesReadBy(model, project.config.variables);
    const audits = auditSpecsOf(model, project.audits);
    const identified = withAuditDefinitions(fingerprint, audits);
    const snapshot = snapshotOf(model, identified, variables, identifierLimitBytes);
    snapshots.set(name, { ...snapshot, audits });
  }
  return snapshots;
}

/**
 * Folds the definitions of the SQL audits a model uses into its metadata hash, so that editing an
 * audit in audits/ makes a new (metadata-only) snapshot that carries the new definition. Models
 * without SQL audits keep the metadata hash of their own parts.
 */
function withAuditDefinitions(
  fingerprint: ModelFingerprint,
  audits: readonly AuditSpec[],
): ModelFingerprint {
  const definitions = audits
    .filter((audit) => audit.definition !== undefined)
    .map((audit) => ({
      name: audit.definition?.name ?? audit.name,
      dialect: audit.definition?.dialect ?? '',
      query: canonicalSql(audit.definition?.query ?? ''),
      defaults: audit.definition?.defaults ?? {},
    }));
  if (definitions.length === 0) return fingerprint;
  const metadataHash = sha256Hex(
    stableJson({ metadata: fingerprint.metadataHash, audits: definitions } as JsonValue),
  );
  return { ...fingerprint, metadataHash };
}

function snapshotOf(
  model: Snapshot['model'],
  fingerprint: ModelFingerprint,
  variables: Snapshot['variables'],
  identifierLimitBytes: number | undefined,
): Omit<Snapshot, 'audits'> {
  const name = model.name;
  const hasTable = upkeepOf(model.kind) !== 'none';
  return {
    id: snapshotIdOf(name, fingerprint),
    name,
    fingerprint,
    version: fingerprint.version,
    table: hasTable ? physicalTableOf(name, fingerprint.version, identifierLimitBytes) : undefined,
    model,
    variables,
  };
}
