import type { AuditSpec } from './audit.js';
import type { ModelFingerprint } from './fingerprint.js';
import type { Model, ModelKind } from './model.js';
import type { TableName } from './table-resolver.js';

/**
 * A snapshot is one state of one model: its definition, its fingerprint, and the version whose
 * physical table it reads and writes. The fingerprint identifies the snapshot; the version is
 * chosen when a plan categorises the change. A new model or a breaking change takes the
 * fingerprint's own version (a new table); a change that is non-breaking for this model (an
 * upstream model only added columns), forward-only or metadata-only keeps the previous version
 * and its table. Snapshots that share a version share the table and its processed intervals.
 */
export type Snapshot = {
  /**
   * `<model>/<fingerprint version>/<first 12 hex characters of the metadata hash>`: it covers
   * the definition, the metadata and the parents' fingerprints, whatever version is chosen.
   */
  readonly id: string;
  readonly name: string;
  readonly fingerprint: ModelFingerprint;
  /** The version whose table the snapshot uses: the fingerprint's, or one it inherited. */
  readonly version: string;
  /** The version's physical table; undefined for EXTERNAL and EMBEDDED models. */
  readonly table: TableName | undefined;
  readonly model: Model;
  /** The project variables the model reads, with the values its fingerprint covers. */
  readonly variables: Readonly<Record<string, unknown>>;
  /**
   * The audits the model references, SQL audits with their definitions, so that audit tasks can
   * carry them. Metadata: they are not part of the version.
   */
  readonly audits: readonly AuditSpec[];
};

/** How a kind's physical object is kept up to date. */
export type Upkeep =
  /** Created once per version, then evaluated over intervals as they become due. */
  | 'intervals'
  /** Built once per version (views, seeds): creating it is building it. */
  | 'once'
  /** Nothing to build: an external table, or an embedded model inlined where it is read. */
  | 'none';

/** How a model of this kind is kept up to date. */
export function upkeepOf(kind: ModelKind): Upkeep {
  switch (kind.name) {
    case 'VIEW':
      return kind.isMaterialized ? 'intervals' : 'once';
    case 'FULL':
    case 'INCREMENTAL_BY_TIME_RANGE':
    case 'INCREMENTAL_BY_UNIQUE_KEY':
    case 'SCD_TYPE_2':
      return 'intervals';
    case 'SEED':
      return 'once';
    case 'EXTERNAL':
    case 'EMBEDDED':
      return 'none';
  }
}

/** The id of a snapshot's version, shared by its snapshots: `<model>/<version>`. */
export function versionIdOf(snapshot: Pick<Snapshot, 'name' | 'version'>): string {
  return `${snapshot.name}/${snapshot.version}`;
}

/** The id of a snapshot from its model name and fingerprint. */
export function snapshotIdOf(name: string, fingerprint: ModelFingerprint): string {
  return `${name}/${fingerprint.version}/${fingerprint.metadataHash.slice(0, 12)}`;
}
