import { closestMatch, SluiceError } from '../core/errors.js';
import type { Model } from '../core/model.js';
import { AS_WRITTEN, type TableResolver } from '../core/table-resolver.js';
import { quoteTableName } from '../sql/dialect.js';
import type { RuntimeStage } from '../sql/macro-context.js';
import { renderModelStatements } from '../sql/macros/macro-renderer.js';
import { rewriteReferences, type SqlParser } from '../sql/sql-parser.js';
import type { Project } from './project.js';

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

/** A model's SQL as it would run: statements before the query, the query, statements after. */
export type RenderedModel = {
  readonly preStatements: readonly string[];
  readonly query: string | undefined;
  readonly postStatements: readonly string[];
};

/** Renders a model for an interval: macros expanded, model references pointed by the resolver. */
export async function renderModel(
  project: Project,
  modelName: string,
  options: RenderOptions,
  parser: SqlParser,
): Promise<RenderedModel> {
  const model = findModel(project, modelName);
  const resolver = options.resolver ?? AS_WRITTEN;
  const thisModel = resolver.resolve(model.name) ?? quoteTableName(model.dialect, model.name);

  const rendered = renderModelStatements(model.preStatements, model.query, model.postStatements, {
    dialect: model.dialect,
    start: options.start,
    end: options.end,
    executionTime: options.executionTime,
    runtimeStage: options.runtimeStage ?? 'evaluating',
    gateway: project.config.defaultGateway,
    thisModel,
    variables: project.config.variables,
  });

  const point = (sql: string) => pointReferences(sql, model, project, resolver, parser);
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
export function findModel(project: Project, name: string): Model {
  const model = project.models.get(normaliseUserName(name));
  if (model !== undefined) return model;
  throw new SluiceError(
    'model_not_found',
    `No model named '${name}' in project '${project.config.name}'.${suggestion(project, name)}` +
      " Run 'sluice dag' to list the models",
  );
}

async function pointReferences(
  sql: string,
  model: Model,
  project: Project,
  resolver: TableResolver,
  parser: SqlParser,
): Promise<string> {
  if (resolver === AS_WRITTEN) return sql;
  const references = await parser.findReferences(sql, model.dialect);
  return rewriteReferences(sql, references, (reference) =>
    reference.name !== model.name && project.models.has(reference.name)
      ? resolver.resolve(reference.name)
      : undefined,
  );
}

function normaliseUserName(name: string): string {
  return name.includes('"') ? name.replaceAll('"', '') : name.toLowerCase();
}

function suggestion(project: Project, name: string): string {
  const names = [...project.models.keys()];
  const lower = name.toLowerCase();
  const close =
    names.find((candidate) => candidate.endsWith(`.${lower}`)) ?? closestMatch(lower, names);
  return close === undefined ? '' : ` Did you mean '${close}'?`;
}
