/**
 * Which parts of a model its fingerprint hashes, split into data parts (a change builds a new
 * version and table) and metadata parts (a change keeps both). See DESIGN.md section 4.
 *
 * The parts are written with their own snake_case keys (SQLMesh's property names), not the field
 * names of ModelDefinition, so that renaming a field in the code never changes a version. Unset
 * values are left out of the JSON, so a part added later changes no existing hash while it is
 * unset; adding one that is set by default, or changing a key, needs a new FINGERPRINT_FORMAT.
 */

import type { ModelDefinition, ModelKind } from './model.js';
import type { JsonValue } from './stable-json.js';

/** What the data parts need beyond the definition: values only the outer layers compute. */
export type ModelDataInputs = {
  /** The canonical form (canonicalSql) of the query; undefined when the model has none. */
  readonly canonicalQuery: string | undefined;
  readonly canonicalPreStatements: readonly string[];
  readonly canonicalPostStatements: readonly string[];
  /**
   * The canonical form of each declared column's type, in the order of `columns`, so that
   * `DECIMAL(10,2)` and `DECIMAL(10, 2)` are one type.
   */
  readonly canonicalColumnTypes: readonly string[];
  /**
   * The values of the project variables the model's SQL reads, by lower-case name. A variable it
   * reads that the project does not define is absent (its default is part of the query).
   */
  readonly variables: Readonly<Record<string, JsonValue>>;
  /** For a SEED model, the SHA-256 (hex) of its CSV file's bytes. */
  readonly seedSha256: string | undefined;
};

/** How a field of a model definition enters the fingerprint. */
export type FieldRole = 'data' | 'metadata' | 'location';

/**
 * The role of every field of ModelDefinition. It must name every field, so adding one to
 * ModelDefinition fails to compile here until someone decides its role and hashes it below.
 * `kind` holds both: its data-shaping settings are data, its scheduling settings metadata.
 * `dialect` is metadata for EXTERNAL models, which have no SQL. `origin` is where the file is.
 */
export const MODEL_FIELD_ROLES = {
  name: 'data',
  kind: 'data',
  dialect: 'data',
  columns: 'data',
  query: 'data',
  preStatements: 'data',
  postStatements: 'data',
  cron: 'metadata',
  cronTimeZone: 'metadata',
  intervalUnit: 'metadata',
  start: 'metadata',
  end: 'metadata',
  grains: 'metadata',
  tags: 'metadata',
  owner: 'metadata',
  description: 'metadata',
  audits: 'metadata',
  dependsOn: 'metadata',
  isEnabled: 'metadata',
  allowsPartials: 'metadata',
  origin: 'location',
} as const satisfies Record<keyof ModelDefinition, FieldRole>;

/**
 * The parts of a model that shape its data. An EXTERNAL model is only a name, a kind and its
 * declared columns: Sluice never builds it, so nothing else it declares changes its data.
 */
export function dataPartsOf(model: ModelDefinition, inputs: ModelDataInputs): JsonValue {
  const columns = model.columns.map((column, index) => [
    column.name,
    inputs.canonicalColumnTypes[index] ?? column.type,
  ]);
  if (model.kind.name === 'EXTERNAL') {
    return { name: model.name, kind: { name: 'EXTERNAL' }, columns };
  }

  return {
    name: model.name,
    kind: kindDataParts(model.kind),
    dialect: model.dialect,
    columns,
    query: inputs.canonicalQuery,
    pre_statements: inputs.canonicalPreStatements,
    post_statements: inputs.canonicalPostStatements,
    variables: inputs.variables,
    seed_sha256: inputs.seedSha256,
  };
}

/** The parts of a model that describe or schedule it without changing its data. */
export function metadataPartsOf(model: ModelDefinition): JsonValue {
  return {
    owner: model.owner,
    description: model.description,
    cron: model.cron,
    cron_tz: model.cronTimeZone,
    interval_unit: model.intervalUnit,
    start: model.start,
    end: model.end,
    tags: model.tags,
    grains: model.grains,
    audits: model.audits.map((audit) => ({ name: audit.name, args: audit.args })),
    depends_on: model.dependsOn,
    enabled: model.isEnabled,
    allow_partials: model.allowsPartials,
    kind: kindMetadataParts(model.kind),
    dialect: model.kind.name === 'EXTERNAL' ? model.dialect : undefined,
  };
}

/** The kind's name and the settings that decide what its table holds. */
function kindDataParts(kind: ModelKind): JsonValue {
  switch (kind.name) {
    case 'VIEW':
      return { name: kind.name, materialized: kind.isMaterialized };
    case 'INCREMENTAL_BY_TIME_RANGE':
      return { name: kind.name, time_column: kind.timeColumn, format: kind.timeColumnFormat };
    case 'INCREMENTAL_BY_UNIQUE_KEY':
      return { name: kind.name, unique_key: kind.uniqueKey };
    case 'SCD_TYPE_2':
      return {
        name: kind.name,
        unique_key: kind.uniqueKey,
        updated_at_name: kind.updatedAtName,
        valid_from_name: kind.validFromName,
        valid_to_name: kind.validToName,
        invalidate_hard_deletes: kind.shouldInvalidateHardDeletes,
        updated_at_as_valid_from: kind.isUpdatedAtValidFrom,
      };
    case 'FULL':
    case 'SEED':
    case 'EXTERNAL':
    case 'EMBEDDED':
      return { name: kind.name };
  }
}

/**
 * The kind's scheduling settings. A SEED's data is its file's content, hashed as a data part; the
 * path it is declared under is metadata, so moving the file keeps the version. The absolute path
 * is never hashed: it differs from one checkout to another.
 */
function kindMetadataParts(kind: ModelKind): JsonValue | undefined {
  switch (kind.name) {
    case 'INCREMENTAL_BY_TIME_RANGE':
    case 'INCREMENTAL_BY_UNIQUE_KEY':
      return {
        batch_size: kind.batchSize,
        lookback: kind.lookback,
        forward_only: kind.isForwardOnly,
      };
    case 'SCD_TYPE_2':
      return { forward_only: kind.isForwardOnly };
    case 'SEED':
      return { path: kind.declaredPath, batch_size: kind.batchSize };
    case 'VIEW':
    case 'FULL':
    case 'EXTERNAL':
    case 'EMBEDDED':
      return undefined;
  }
}
