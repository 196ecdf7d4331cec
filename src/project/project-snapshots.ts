import type { ModelFingerprint } from '../core/fingerprint.js';
import { physicalTableOf } from '../core/physical-table.js';
import { type Snapshot, snapshotIdOf, upkeepOf } from '../core/snapshot.js';
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
    const snapshot = snapshotOf(model, fingerprint, variables, identifierLimitBytes);
    snapshots.set(name, { ...snapshot, audits: auditSpecsOf(model, project.audits) });
  }
  return snapshots;
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
