import { closestMatch, SluiceError } from '../core/errors.js';
import type { Model } from '../core/model.js';
import { AS_WRITTEN, type TableResolver } from '../core/table-resolver.js';
import { quoteTable, quoteTableName } from '../sql/dialect.js';
import type { RuntimeStage } from '../sql/macro-context.js';
import { renderModelStatements } from '../sql/macros/macro-renderer.js';
import { rewriteReferences, type SqlParser, type TableReference } from '../sql/sql-parser.js';
import { aliasFinder, embeddedSubquery } from './embedded-inlining.js';
import type { ProjectConfig } from './project-config.js';

export type RenderOptions = {
  /** Interval start, inclusive, UTC. */
  readonly start: Date;
  /** Interval end, exclusive, UTC. */
  readonly end: Date;
  readonly executionTime: Date;
  readonly runtimeStage?: RuntimeStage;
  /** Where model names point; by default they stay as written. */
  readonly resolver?: TableResolver;
};

/**
 * What rendering reads besides the model: the models it may reference and the project's name,
 * default gateway and variables. A loaded project is one; an Executor builds one from a task.
 */
export type RenderScope = {
  readonly models: ReadonlyMap<string, Model>;
  readonly config: Pick<ProjectConfig, 'name' | 'defaultGateway' | 'variables'>;
};

/** A model's SQL as it would run: statements before the query, the query, statements after. */
export type RenderedModel = {
  readonly preStatements: readonly string[];
  readonly query: string | undefined;
  readonly postStatements: readonly string[];
};

/** Renders a model for an interval: macros expanded, model references pointed by the resolver. */
export async function renderModel(
  project: RenderScope,
  modelName: string,
  options: RenderOptions,
  parser: SqlParser,
): Promise<RenderedModel> {
  const model = findModel(project, modelName);
  const pointing: Pointing = {
    project,
    options,
    parser,
    resolver: options.resolver ?? AS_WRITTEN,
    embedded: new Map(),
  };
  const rendered = expandMacros(model, pointing);

  const point = (sql: string) => pointReferences(sql, model, pointing);
  return {
    preStatements: await Promise.all(rendered.pre.map(point)),
    query: rendered.query === undefined ? undefined : await point(rendered.query),
    postStatements: await Promise.all(rendered.post.map(point)),
  };
}

/** Formats a rendered model as one SQL script, statements separated by semicolons. */
export function formatRenderedModel(rendered: RenderedModel): string {
  const statements = [...rendered.preStatements, rendered.query ?? '', ...rendered.postStatements];
  return `${statements
    .map((statement) => statement.trim())
    .filter((statement) => statement.length > 0)
    .join(';\n\n')};\n`;
}

/** Looks a model up by name as the user typed it; a miss suggests the closest name. */
export function findModel(project: RenderScope, name: string): Model {
  const model = project.models.get(normaliseUserName(name));
  if (model !== undefined) return model;
  throw new SluiceError(
    'model_not_found',
    `No model named '${name}' in project '${project.config.name}'.${suggestion(project, name)}` +
      " Run 'sluice dag' to list the models",
  );
}

/** What pointing references needs, shared by a model and the embedded models it inlines. */
type Pointing = {
  readonly project: RenderScope;
  readonly options: RenderOptions;
  readonly parser: SqlParser;
  readonly resolver: TableResolver;
  /** Each embedded model's rendered query, rendered once per renderModel call. */
  readonly embedded: Map<string, Promise<string>>;
};

function expandMacros(model: Model, pointing: Pointing) {
  const { project, options, resolver } = pointing;
  const ownTable = resolver.resolve(model.name);
  const thisModel =
    ownTable === undefined
      ? quoteTableName(model.dialect, model.name)
      : quoteTable(model.dialect, ownTable);

  return renderModelStatements(model.preStatements, model.query, model.postStatements, {
    dialect: model.dialect,
    start: options.start,
    end: options.end,
    executionTime: options.executionTime,
    runtimeStage: options.runtimeStage ?? 'evaluating',
    gateway: project.config.defaultGateway,
    thisModel,
    variables: project.config.variables,
  });
}

/**
 * Points references to models at the resolver's tables and inlines EMBEDDED models as subqueries.
 * With the default resolver, SQL that cannot name an embedded model stays as written, unparsed.
 */
async function pointReferences(sql: string, model: Model, pointing: Pointing): Promise<string> {
  const { project, resolver, parser } = pointing;
  if (resolver === AS_WRITTEN && !mayNameEmbedded(sql, model, project)) return sql;

  const references = await parser.findReferences(sql, model.dialect);
  const inlined = await renderEmbedded(references, model, pointing);
  const hasAlias = aliasFinder(sql);
  return rewriteReferences(sql, references, (reference) => {
    if (reference.name === model.name || !project.models.has(reference.name)) return undefined;
    const query = inlined.get(reference.name);
    if (query !== undefined && reference.access === 'read') {
      return embeddedSubquery(query, reference, hasAlias(reference.end), model.dialect);
    }
    const table = resolver.resolve(reference.name);
    return table === undefined ? undefined : quoteTable(model.dialect, table);
  });
}

/** The rendered queries of the embedded models that `references` read, by name. */
async function renderEmbedded(
  references: readonly TableReference[],
  model: Model,
  pointing: Pointing,
): Promise<Map<string, string>> {
  const names = new Set(
    references
      .filter((reference) => reference.name !== model.name && reference.access === 'read')
      .map((reference) => reference.name)
      .filter((name) => isEmbedded(pointing.project, name)),
  );
  const queries = new Map<string, string>();
  for (const name of names) queries.set(name, await embeddedQuery(name, pointing));
  return queries;
}

/**
 * An embedded model's query rendered for the same interval and resolver, its own references
 * pointed and embedded models inlined in turn (the graph has no cycles, so this ends). Its pre-
 * and post-statements are not run where it is inlined; only their @DEF definitions apply.
 */
function embeddedQuery(name: string, pointing: Pointing): Promise<string> {
  const cached = pointing.embedded.get(name);
  if (cached !== undefined) return cached;
  const model = pointing.project.models.get(name);
  if (model === undefined) throw new SluiceError('internal', `Embedded model '${name}' is missing`);
  const query = expandMacros(model, pointing).query;
  if (query === undefined) {
    throw new SluiceError(
      'model_query_invalid',
      `Embedded model '${name}' has no query to inline; write a SELECT after its MODEL header`,
      { location: model.origin },
    );
  }
  const pointed = pointReferences(query, model, pointing);
  pointing.embedded.set(name, pointed);
  return pointed;
}

/** Whether the text contains the last name part of one of the model's embedded dependencies. */
function mayNameEmbedded(sql: string, model: Model, project: RenderScope): boolean {
  const embedded = model.dependencies.filter((name) => isEmbedded(project, name));
  if (embedded.length === 0) return false;
  const text = sql.toLowerCase();
  return embedded.some((name) => text.includes((name.split('.').at(-1) ?? name).toLowerCase()));
}

function isEmbedded(project: RenderScope, name: string): boolean {
  return project.models.get(name)?.kind.name === 'EMBEDDED';
}

function normaliseUserName(name: string): string {
  return name.includes('"') ? name.replaceAll('"', '') : name.toLowerCase();
}

function suggestion(project: RenderScope, name: string): string {
  const names = [...project.models.keys()];
  const lower = name.toLowerCase();
  const close =
    names.find((candidate) => candidate.endsWith(`.${lower}`)) ?? closestMatch(lower, names);
  return close === undefined ? '' : ` Did you mean '${close}'?`;
}
