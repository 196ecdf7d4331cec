/**
 * Fingerprints every model of a loaded project (DESIGN.md section 4). This layer computes what
 * the pure fingerprint cannot: the canonical form of each statement, the values of the project
 * variables each model reads, and the SHA-256 of each seed's CSV file.
 */

import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { Dag } from '../core/dag.js';
import { SluiceError } from '../core/errors.js';
import {
  type FingerprintInputs,
  fingerprintModel,
  type ModelFingerprint,
} from '../core/fingerprint.js';
import type { Model } from '../core/model.js';
import type { JsonValue } from '../core/stable-json.js';
import { canonicalSql } from '../sql/canonical-sql.js';
import type { MacroValue } from '../sql/macro-context.js';
import { findVariableReferences } from '../sql/macros/variable-references.js';
import type { Project } from './project.js';

type Variables = Readonly<Record<string, MacroValue>>;

/**
 * The fingerprint of every model in the project, external and disabled ones included, parents
 * first: in the order of project.dag when every model is enabled.
 */
export async function fingerprintProject(
  project: Project,
): Promise<ReadonlyMap<string, ModelFingerprint>> {
  const seedHashes = await hashSeedFiles(project);

  const fingerprints = new Map<string, ModelFingerprint>();
  for (const name of fingerprintOrder(project)) {
    const model = modelNamed(project, name);
    const inputs = inputsOf(model, project.config.variables, seedHashes, fingerprints);
    fingerprints.set(name, fingerprintModel(model, inputs));
  }
  return fingerprints;
}

/**
 * Parents first. The DAG leaves disabled models out, and an enabled model may still read one, so
 * with disabled models the order comes from every model's dependencies; Dag.build also names any
 * cycle through disabled models, which loading does not look for.
 */
function fingerprintOrder(project: Project): readonly string[] {
  if (project.dag.nodes.length === project.models.size) return project.dag.nodes;

  const parents = new Map<string, readonly string[]>();
  for (const model of project.models.values()) parents.set(model.name, model.dependencies);
  return Dag.build(parents).nodes;
}

function inputsOf(
  model: Model,
  variables: Variables,
  seedHashes: ReadonlyMap<string, string>,
  fingerprints: ReadonlyMap<string, ModelFingerprint>,
): FingerprintInputs {
  const pre = model.preStatements.map((statement) => statement.sql);
  const post = model.postStatements.map((statement) => statement.sql);
  const texts = model.query === undefined ? [...pre, ...post] : [...pre, model.query.sql, ...post];

  return {
    canonicalQuery: model.query === undefined ? undefined : canonicalSql(model.query.sql),
    canonicalPreStatements: pre.map(canonicalSql),
    canonicalPostStatements: post.map(canonicalSql),
    canonicalColumnTypes: model.columns.map((column) => canonicalSql(column.type)),
    variables: variablesRead(texts, variables),
    seedSha256: seedHashes.get(model.name),
    parentVersions: parentVersionsOf(model, fingerprints),
  };
}

/** The project variables a model's statements read, with their values. */
export function variablesReadBy(model: Model, variables: Variables): Record<string, JsonValue> {
  const texts = [model.query, ...model.preStatements, ...model.postStatements]
    .filter((statement) => statement !== undefined)
    .map((statement) => statement.sql);
  return variablesRead(texts, variables);
}

/**
 * The project variables the texts read, with their values. When a @VAR computes its name, any
 * variable may be read, so the model depends on all of them.
 */
function variablesRead(texts: readonly string[], variables: Variables): Record<string, JsonValue> {
  const references = findVariableReferences(texts);
  const names = references.hasComputedName ? Object.keys(variables) : references.names;
  const defined = names.filter((name) => Object.hasOwn(variables, name));
  return Object.fromEntries(defined.map((name) => [name, variables[name] ?? null]));
}

function parentVersionsOf(
  model: Model,
  fingerprints: ReadonlyMap<string, ModelFingerprint>,
): Record<string, string> {
  const entries = model.dependencies.map((parent) => {
    const fingerprint = fingerprints.get(parent);
    if (fingerprint === undefined) {
      throw new SluiceError(
        'internal',
        `Model '${model.name}' was fingerprinted before its parent '${parent}'`,
      );
    }
    return [parent, fingerprint.version] as const;
  });
  return Object.fromEntries(entries);
}

/** SHA-256 of every seed's CSV file by model name, the files read concurrently. */
async function hashSeedFiles(project: Project): Promise<Map<string, string>> {
  const seeds = [...project.models.values()].filter((model) => model.kind.name === 'SEED');
  const hashes = await Promise.all(seeds.map((model) => hashSeedFile(model)));
  return new Map(seeds.map((model, index) => [model.name, hashes[index] ?? '']));
}

async function hashSeedFile(model: Model): Promise<string> {
  if (model.kind.name !== 'SEED') return '';
  try {
    return createHash('sha256')
      .update(await readFile(model.kind.path))
      .digest('hex');
  } catch (error) {
    throw new SluiceError(
      'seed_invalid',
      `Seed file '${model.kind.declaredPath}' of model '${model.name}' cannot be read; ` +
        'check that it exists and is readable, then load the project again',
      { location: model.origin, cause: error },
    );
  }
}

function modelNamed(project: Project, name: string): Model {
  const model = project.models.get(name);
  if (model === undefined) {
    throw new SluiceError('internal', `The DAG names model '${name}', which the project lacks`);
  }
  return model;
}
