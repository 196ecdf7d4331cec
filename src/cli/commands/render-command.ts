import { addDays, parseInstant, parseUserInterval, startOfDay } from '../../core/time.js';
import { formatRenderedModel, renderModel } from '../../project/model-renderer.js';
import { loadProject } from '../../project/project-loader.js';
import { createSqlParser } from '../../sql/sql-parser.js';
import type { CommandContext } from '../output.js';

export type RenderCommandOptions = {
  readonly start?: string;
  readonly end?: string;
  readonly executionTime?: string;
};

/**
 * `sluice render MODEL`: prints the SQL that would run for an interval. Without --start the
 * interval is yesterday (UTC); without --end it is the day of --start.
 */
export async function renderCommand(
  context: CommandContext,
  modelName: string,
  options: RenderCommandOptions,
) {
  const yesterday = addDays(startOfDay(new Date()), -1).toISOString().slice(0, 10);
  const startText = options.start ?? yesterday;
  const interval = parseUserInterval(startText, options.end ?? startText);
  const executionTime =
    options.executionTime === undefined
      ? new Date()
      : parseInstant(options.executionTime, '--execution-time');

  const project = await loadProject(context.projectDir, { logger: context.logger });
  const parser = await createSqlParser();
  try {
    const rendered = await renderModel(project, modelName, { ...interval, executionTime }, parser);
    context.output.stdout.write(formatRenderedModel(rendered));
  } finally {
    await parser.close();
  }
}
