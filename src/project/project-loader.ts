import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Dag } from '../core/dag.js';
import { DependencyCycleError } from '../core/dependency-cycle-error.js';
import { SluiceError, SluiceErrors, throwIfAny } from '../core/errors.js';
import { type Logger, SILENT_LOGGER } from '../core/logger.js';
import type { Model, ModelDefinition } from '../core/model.js';
import { checkModelAudits } from './audit-checks.js';
import { loadAudits } from './audit-files.js';
import { DependencyFinder, type ModelTables } from './dependency-finder.js';
import { loadExternalModels } from './external-models.js';
import { parseModelFile } from './model-file.js';
import { listModelFiles } from './model-files.js';
import type { Project } from './project.js';
import { loadProjectConfig, type ProjectConfig } from './project-config.js';
import { ReferenceCache } from './reference-cache.js';
import { checkSeedFile } from './seed-files.js';

export type LoadProjectOptions = {
  /** Reuse parser results from `.sluice/cache` (default true); false measures a cold load. */
  readonly useCache?: boolean;
  readonly logger?: Logger;
};

/**
 * Loads a project folder: sluice.yaml, external_models.yaml, models/ and audits/, then every
 * model's dependencies and the graph. All problems found in files are reported together.
 */
export async function loadProject(
  root: string,
  options: LoadProjectOptions = {},
): Promise<Project> {
  const startedMs = performance.now();
  const logger = options.logger ?? SILENT_LOGGER;
  const absoluteRoot = resolve(root);
  const config = await loadProjectConfig(absoluteRoot);
  const definitions = await readDefinitions(absoluteRoot, config);
  const audits = await loadAudits(absoluteRoot, config.modelDefaults.dialect);
  throwIfAny(definitions.flatMap((definition) => checkModelAudits(definition, audits)));

  const cache = await ReferenceCache.open(absoluteRoot, options.useCache ?? true);
  const finder = new DependencyFinder(config, cache);
  let tables: Map<string, ModelTables>;
  try {
    tables = await findTables(definitions, finder);
  } finally {
    await finder.close();
  }

  const models = linkModels(definitions, tables);
  const dag = buildDag(models);
  logger.debug(
    {
      project: config.name,
      models: models.size,
      statementsParsed: finder.counts.parsed,
      statementsCached: finder.counts.cached,
      durationMs: Math.round(performance.now() - startedMs),
    },
    'project loaded',
  );
  return { root: absoluteRoot, config, models, dag, audits };
}

async function readDefinitions(root: string, config: ProjectConfig): Promise<ModelDefinition[]> {
  const files = await listModelFiles(root);
  // Synchronous reads: for thousands of small files they beat concurrent promises several times.
  const texts = files.map((file) => readFileSync(file.absolutePath, 'utf8'));

  const errors: SluiceError[] = [];
  const definitions: ModelDefinition[] = [];
  files.forEach((file, index) => {
    try {
      const text = texts[index] ?? '';
      definitions.push(parseModelFile({ ...file, text, defaults: config.modelDefaults }));
    } catch (error) {
      errors.push(...asErrors(error));
    }
  });
  try {
    definitions.push(...(await loadExternalModels(root, config.modelDefaults)));
  } catch (error) {
    errors.push(...asErrors(error));
  }

  for (const definition of definitions) {
    const seedError = checkSeedFile(root, definition);
    if (seedError !== undefined) errors.push(seedError);
  }
  errors.push(...duplicateErrors(definitions));
  throwIfAny(errors);
  return definitions;
}

async function findTables(definitions: readonly ModelDefinition[], finder: DependencyFinder) {
  const errors: SluiceError[] = [];
  const tables = new Map<string, ModelTables>();
  for (const definition of definitions) {
    try {
      tables.set(definition.name, await finder.find(definition));
    } catch (error) {
      errors.push(...asErrors(error));
    }
  }
  throwIfAny(errors);
  return tables;
}

/** Two definitions of one name are an error naming both places. */
function duplicateErrors(definitions: readonly ModelDefinition[]): SluiceError[] {
  const first = new Map<string, ModelDefinition>();
  const errors: SluiceError[] = [];
  for (const definition of definitions) {
    const earlier = first.get(definition.name);
    if (earlier === undefined) {
      first.set(definition.name, definition);
      continue;
    }
    errors.push(
      new SluiceError(
        'model_duplicate',
        `Model '${definition.name}' is defined twice: here and in ${earlier.origin.file}:` +
          `${earlier.origin.line}; rename one of them or delete the copy`,
        { location: definition.origin },
      ),
    );
  }
  return errors;
}

/** Classifies each table a model reads: another model, itself, or an external table. */
function linkModels(
  definitions: readonly ModelDefinition[],
  tables: ReadonlyMap<string, ModelTables>,
): Map<string, Model> {
  const names = new Set(definitions.map((definition) => definition.name));
  const modelSchemas = new Set(
    definitions.filter((d) => d.kind.name !== 'EXTERNAL').map((d) => schemaOf(d.name)),
  );

  const errors: SluiceError[] = [];
  const models = new Map<string, Model>();
  for (const definition of definitions) {
    const reads = tables.get(definition.name)?.reads ?? new Set<string>();
    const dependencies = new Set<string>();
    const externalTables = new Set<string>();
    for (const name of [...reads, ...definition.dependsOn]) {
      if (name === definition.name) continue;
      if (names.has(name)) dependencies.add(name);
      else if (modelSchemas.has(schemaOf(name)) || definition.dependsOn.includes(name)) {
        errors.push(undefinedReference(definition, name));
      } else externalTables.add(name);
    }
    models.set(definition.name, {
      ...definition,
      dependencies: [...dependencies].sort(),
      externalTables: [...externalTables].sort(),
    });
  }
  throwIfAny(errors);
  return models;
}

function undefinedReference(definition: ModelDefinition, name: string): SluiceError {
  return new SluiceError(
    'model_undefined_reference',
    `Model '${definition.name}' depends on '${name}', which is not defined; ` +
      'add it or declare it in external_models.yaml',
    { location: definition.query ?? definition.origin },
  );
}

/** The graph of enabled models; a cycle is reported with the files of every model on it. */
function buildDag(models: ReadonlyMap<string, Model>): Dag {
  const parents = new Map<string, readonly string[]>();
  for (const model of models.values()) {
    if (!model.isEnabled) continue;
    parents.set(
      model.name,
      model.dependencies.filter((name) => models.get(name)?.isEnabled === true),
    );
  }
  try {
    return Dag.build(parents);
  } catch (error) {
    if (error instanceof DependencyCycleError) throw withFiles(error, models);
    throw error;
  }
}

function withFiles(error: DependencyCycleError, models: ReadonlyMap<string, Model>): SluiceError {
  const files = error.models.map(
    (name) => `${name} in ${models.get(name)?.origin.file ?? 'an unknown file'}`,
  );
  const first = models.get(error.models[0] ?? '');
  return new SluiceError('dependency_cycle', `${error.message} (${files.join(', ')})`, {
    location: first?.origin,
    cause: error,
  });
}

function schemaOf(name: string): string {
  const parts = name.split('.');
  return parts.length >= 2 ? (parts[parts.length - 2] ?? '') : '';
}

function asErrors(error: unknown): SluiceError[] {
  if (error instanceof SluiceErrors) return [...error.errors];
  if (error instanceof SluiceError) return [error];
  throw error;
}
