import { checkEnvironmentName } from '../../core/environments.js';
import { SluiceError } from '../../core/errors.js';
import type { TimeRange } from '../../core/intervals/range-set.js';
import { parseUserInterval } from '../../core/time.js';
import { type RunInfo, runStartedResponseSchema } from '../../protocol/runs-api.js';
import type { CommandContext } from '../output.js';
import { followRemoteRun, remoteModelResults, remoteRunError } from '../remote-runs.js';
import { RunReporter } from '../run-reporter.js';
import { formatRange } from '../time-ranges.js';
import { schedulerFor } from './run-control-commands.js';

export type RestateOptions = {
  readonly model?: readonly string[];
  readonly start?: string;
  readonly end?: string;
};

/**
 * `sluice restate ENV --model M... --start D --end D`: the Scheduler evaluates the models, and
 * every model downstream of them, again over the range, as a plan of the environment as it is,
 * and promotes; progress prints as `sluice apply` prints it. Through the Scheduler only: in this
 * process, `sluice plan ENV --restate-model M --start D --end D` does the same from the project.
 */
export async function restateCommand(
  context: CommandContext,
  environment: string,
  options: RestateOptions,
): Promise<void> {
  const name = checkEnvironmentName(environment);
  const models = modelsOf(options);
  const range = rangeOf(options);
  const api = schedulerFor(
    'restate',
    `In this process, 'sluice plan ${name} --restate-model M --start D --end D' restates models ` +
      'of the project.',
  );

  const started = await api.call({
    method: 'POST',
    path: `/v1/environments/${encodeURIComponent(name)}/restate`,
    body: { models, start_ms: range[0], end_ms: range[1] },
    schema: runStartedResponseSchema,
  });
  const reporter = new RunReporter(context.output, 'text', models.length);
  const run = await followRemoteRun(api, started.run_id, (event) => reporter.onEvent(event));

  const summary = run.summary as { isPromoted?: boolean; revision?: number } | null;
  if (summary?.isPromoted !== true) throw restateFailure(run, name);
  context.output.stdout.write(
    `Restated ${models.map((model) => `'${model}'`).join(', ')} and their downstream models in ` +
      `'${name}' over ${formatRange(range)}: the environment is at revision ` +
      `${summary.revision ?? 0}.\n`,
  );
}

function modelsOf(options: RestateOptions): string[] {
  const models = [...new Set(options.model ?? [])];
  if (models.length > 0) return models;
  throw new SluiceError(
    'usage',
    'Name the models to restate with --model, such as --model shop.orders (repeat it for more)',
  );
}

function rangeOf(options: RestateOptions): TimeRange {
  if (options.start === undefined || options.end === undefined) {
    throw new SluiceError(
      'usage',
      'Give the range to restate with --start and --end, such as --start 2024-01-01 ' +
        '--end 2024-01-31 (a date-only end is inclusive)',
    );
  }
  const interval = parseUserInterval(options.start, options.end);
  return [interval.start.getTime(), interval.end.getTime()];
}

function restateFailure(run: RunInfo, environment: string): SluiceError {
  const error = remoteRunError(run);
  if (error !== undefined) return error;
  const failed = remoteModelResults(run).filter((model) => model.outcome === 'failed');
  const details = failed
    .map((model) => `'${model.modelName}': ${model.error?.message ?? 'failed'}`)
    .join('; ');
  const count = `${failed.length} ${failed.length === 1 ? 'model' : 'models'}`;
  return new SluiceError(
    'run_failed',
    `The restatement was not applied: ${count} failed (${details}). ` +
      `Environment '${environment}' is unchanged; what was built is kept. ` +
      `Fix the cause and run 'sluice runs rerun ${run.id}' to apply the restatement again`,
  );
}
