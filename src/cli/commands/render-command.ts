import { formatRenderedModel, renderModel } from '../../project/model-renderer.js';
import { loadProject } from '../../project/project-loader.js';
import { createSqlParser } from '../../sql/sql-parser.js';
import { type IntervalOptions, parseIntervalOptions } from '../interval-options.js';
import type { CommandContext } from '../output.js';

export type RenderCommandOptions = IntervalOptions;

/**
 * `sluice render MODEL`: prints the SQL that would run for an interval. Without --start the
 * interval is yesterday (UTC); without --end it is the day of --start.
 */
export async function renderCommand(
  context: CommandContext,
  modelName: string,
  options: RenderCommandOptions,
) {
  const interval = parseIntervalOptions(options);

  const project = await loadProject(context.projectDir, { logger: context.logger });
  const parser = await createSqlParser();
  try {
    const rendered = await renderModel(project, modelName, interval, parser);
    context.output.stdout.write(formatRenderedModel(rendered));
  } finally {
    await parser.close();
  }
}
