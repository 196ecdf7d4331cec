import { relative, sep } from 'node:path';
import { didYouMean, SluiceError, type SourceLocation } from '../../core/errors.js';
import type { Model } from '../../core/model.js';
import type { EngineAdapter } from '../../engines/engine-adapter.js';
import { findModel, type RenderedModel, renderModel } from '../../project/model-renderer.js';
import type { Project } from '../../project/project.js';
import type { GatewayConfig } from '../../project/project-config.js';
import { loadProject } from '../../project/project-loader.js';
import { createSqlParser } from '../../sql/sql-parser.js';
import { type IntervalOptions, parseIntervalOptions } from '../interval-options.js';
import type { CommandContext } from '../output.js';
import { withEngine } from '../project-run-setup.js';
import {
  formatResult,
  type PrintedResult,
  RESULT_FORMATS,
  type ResultFormat,
} from '../result-formats.js';

export type EvaluateCommandOptions = IntervalOptions & {
  readonly format?: string;
  readonly limit?: string;
  readonly gateway?: string;
};

/** Rows shown when --limit is not given. */
export const DEFAULT_LIMIT = 100;

/**
 * `sluice evaluate MODEL`: runs a model's query for an interval on a gateway's engine and prints
 * its rows, without writing the model's table. Model names read their own tables, as written, so
 * the models a query reads must have been built on that gateway. Pre-statements run first, in
 * the same session; post-statements do not run, since no table is written.
 */
export async function evaluateCommand(
  context: CommandContext,
  modelName: string,
  options: EvaluateCommandOptions,
) {
  const format = parseFormat(options.format ?? 'table');
  const limit = parseLimit(options.limit);
  const interval = parseIntervalOptions(options);

  const project = await loadProject(context.projectDir, { logger: context.logger });
  const model = findModel(project, modelName);
  rejectQueryless(project, model);
  const gateway = chooseGateway(project, options.gateway);
  const rendered = await renderForGateway(project, model, gateway, interval);

  const result = await withEngine(project, gateway, (adapter) =>
    runQuery(adapter, rendered, limit),
  ).catch((error: unknown) => {
    throw explainFailure(error, model, gateway);
  });

  context.output.stdout.write(formatResult(result, format));
  if (result.isTruncated && format !== 'table') {
    context.output.stderr.write(
      `Printed the first ${result.rows.length} rows; pass --limit 0 to print all of them\n`,
    );
  }
}

function parseFormat(format: string): ResultFormat {
  const match = RESULT_FORMATS.find((candidate) => candidate === format.toLowerCase());
  if (match !== undefined) return match;
  throw new SluiceError(
    'usage',
    `Unknown format '${format}'; use one of: ${RESULT_FORMATS.join(', ')}`,
  );
}

/** The row limit; 0 means every row. */
function parseLimit(text: string | undefined): number {
  if (text === undefined) return DEFAULT_LIMIT;
  const limit = Number(text.trim());
  if (text.trim() !== '' && Number.isSafeInteger(limit) && limit >= 0) return limit;
  throw new SluiceError(
    'usage',
    `--limit '${text}' is not a whole number; give the number of rows to print, or 0 for all`,
  );
}

function rejectQueryless(project: Project, model: Model): void {
  if (model.kind.name === 'SEED') {
    const file = relative(project.root, model.kind.path).split(sep).join('/');
    throw new SluiceError(
      'usage',
      `Model '${model.name}' is a SEED model: its rows come from ${file}; ` +
        'evaluate a model that reads it',
    );
  }
  if (model.kind.name === 'EXTERNAL') {
    throw new SluiceError(
      'usage',
      `Model '${model.name}' is an EXTERNAL model: its rows come from outside the project and ` +
        'it has no query; evaluate a model that reads it',
    );
  }
}

function chooseGateway(project: Project, name: string | undefined): GatewayConfig {
  const chosen = name ?? project.config.defaultGateway;
  const gateway = project.config.gateways.get(chosen);
  if (gateway !== undefined) return gateway;
  const names = [...project.config.gateways.keys()];
  throw new SluiceError(
    'usage',
    `Gateway '${chosen}' is not defined in sluice.yaml.${didYouMean(chosen, names)} ` +
      `Choose one of: ${names.join(', ')}`,
  );
}

/** Renders the model with `@gateway` naming the chosen gateway. */
async function renderForGateway(
  project: Project,
  model: Model,
  gateway: GatewayConfig,
  interval: { readonly start: Date; readonly end: Date; readonly executionTime: Date },
): Promise<RenderedModel> {
  const onGateway: Project = {
    ...project,
    config: { ...project.config, defaultGateway: gateway.name },
  };
  const parser = await createSqlParser();
  try {
    return await renderModel(onGateway, model.name, interval, parser);
  } finally {
    await parser.close();
  }
}

/** Runs the pre-statements and the query in one session, fetching one row past the limit. */
async function runQuery(
  adapter: EngineAdapter,
  rendered: RenderedModel,
  limit: number,
): Promise<PrintedResult> {
  const query = (rendered.query ?? '').trim().replace(/;+\s*$/, '');
  const sql =
    limit === 0 ? query : `SELECT * FROM (\n${query}\n) AS sluice_evaluate LIMIT ${limit + 1}`;

  const result = await adapter.transaction(async (session) => {
    for (const statement of rendered.preStatements) await session.execute(statement);
    return session.query(sql);
  });
  const isTruncated = limit > 0 && result.rows.length > limit;
  const rows = isTruncated ? result.rows.slice(0, limit) : result.rows;
  return { columns: result.columns, rows, isTruncated };
}

/** Engine failures worded for this command: which model, which gateway, what to do. */
function explainFailure(error: unknown, model: Model, gateway: GatewayConfig): unknown {
  if (!(error instanceof SluiceError)) return error;
  const options = { retryable: error.retryable, cause: error };
  switch (error.code) {
    case 'table_missing':
      return new SluiceError(
        'table_missing',
        `Model '${model.name}' reads a table that does not exist on gateway '${gateway.name}': ` +
          `${error.message.replace(/\.$/, '')}; build the models it depends on first`,
        options,
      );
    case 'engine_unreachable':
      return new SluiceError(
        'engine_unreachable',
        `Cannot evaluate model '${model.name}': ${error.message.replace(/\.$/, '')}. ` +
          'To evaluate on another gateway, pass --gateway NAME',
        options,
      );
    case 'engine_error':
    case 'engine_type_rejected':
      return new SluiceError(
        error.code,
        `Model '${model.name}' failed on gateway '${gateway.name}': ${error.message}`,
        { ...options, location: queryLocation(model) },
      );
    default:
      return error;
  }
}

function queryLocation(model: Model): SourceLocation {
  const { file, line, column } = model.query ?? model.origin;
  return { file, line, column };
}
