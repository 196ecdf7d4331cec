import { checkEnvironmentName } from '../../core/environments.js';
import { didYouMean, SluiceError } from '../../core/errors.js';
import { RUN_STATUSES, type RunInfo } from '../../protocol/runs-api.js';
import type { RunStatus } from '../../state/runs/run-store.js';
import type { CommandContext } from '../output.js';
import { remoteModelResults, remoteRunError } from '../remote-runs.js';
import { allRunTasks, withRunAccess } from '../run-access.js';
import { RunReporter } from '../run-reporter.js';
import type { StateCliOptions } from '../state-context.js';
import { runHeader, runsTable, tasksTable } from './runs-text.js';

/**
 * `sluice runs` lists the runs the Scheduler recorded, newest first, and `sluice runs show ID`
 * shows one with its model results and tasks. Both read through the Scheduler's API when
 * SLUICE_URL is set and from the state store otherwise, and print the same either way. Runs made
 * by `sluice run` or `sluice plan` in the CLI's own process are not recorded as runs.
 */

export type RunsFormatOptions = StateCliOptions & { readonly format?: string };

export type RunsListOptions = RunsFormatOptions & {
  readonly env?: string;
  readonly status?: string;
  readonly limit?: string;
};

/** Runs listed when --limit is not given, and the most one call may list. */
const DEFAULT_LIMIT = 20;
const MAX_LIMIT = 500;

/** `sluice runs [--env E] [--status S] [--limit N]`: runs, newest first. */
export async function runsListCommand(
  context: CommandContext,
  options: RunsListOptions,
): Promise<void> {
  const isJson = parseRunsFormat(options.format);
  const query = {
    limit: options.limit === undefined ? DEFAULT_LIMIT : parseLimit(options.limit),
    ...(options.env === undefined ? {} : { environment: checkEnvironmentName(options.env) }),
    ...(options.status === undefined ? {} : { status: parseStatus(options.status) }),
  };

  const runs = await withRunAccess(context, options, (access) => access.listRuns(query));

  const out = context.output.stdout;
  if (isJson) {
    out.write(`${JSON.stringify({ runs }, null, 2)}\n`);
  } else if (runs.length === 0) {
    const isFiltered = options.env !== undefined || options.status !== undefined;
    out.write(isFiltered ? 'No recorded run matches.\n' : 'No runs are recorded yet.\n');
  } else {
    out.write(runsTable(runs));
  }
}

/** `sluice runs show ID`: the run, its model results as a run's summary prints them, its tasks. */
export async function runsShowCommand(
  context: CommandContext,
  runId: string,
  options: RunsFormatOptions,
): Promise<void> {
  const isJson = parseRunsFormat(options.format);

  const { run, tasks } = await withRunAccess(context, options, async (access) => ({
    run: await access.readRun(runId),
    tasks: await allRunTasks(access, runId),
  }));

  const out = context.output.stdout;
  if (isJson) {
    out.write(`${JSON.stringify({ run, tasks }, null, 2)}\n`);
    return;
  }
  out.write(runHeader(run));
  writeResults(context, run);
  out.write(tasksTable(tasks));
}

/** The run's model results as the run reporter's summary prints them, or why there are none. */
function writeResults(context: CommandContext, run: RunInfo): void {
  const out = context.output.stdout;
  if (run.status === 'running') {
    out.write(`Still running; 'sluice logs --run ${run.id}' prints what its tasks logged.\n`);
    return;
  }
  const models = remoteModelResults(run);
  if (models.length === 0) {
    const error = remoteRunError(run);
    out.write(`${error === undefined ? 'It recorded no model results.' : error.message}\n`);
    return;
  }
  const reporter = new RunReporter(context.output, 'text', models.length);
  reporter.finish({
    runId: run.id,
    environment: run.environment,
    startedAtMs: run.created_at_ms,
    durationMs: (run.finished_at_ms ?? run.created_at_ms) - run.created_at_ms,
    models,
  });
}

/** Whether --format asks for JSON; text unless it does. */
export function parseRunsFormat(format: string | undefined): boolean {
  if (format === undefined || format === 'text') return false;
  if (format === 'json') return true;
  throw new SluiceError('usage', `Unknown format '${format}'; use one of: text, json`);
}

function parseStatus(text: string): RunStatus {
  const match = RUN_STATUSES.find((status) => status === text.trim().toLowerCase());
  if (match !== undefined) return match;
  throw new SluiceError(
    'usage',
    `Unknown run status '${text}'; use one of: ${RUN_STATUSES.join(', ')}.` +
      didYouMean(text, RUN_STATUSES),
  );
}

function parseLimit(text: string): number {
  const value = Number(text.trim());
  if (Number.isSafeInteger(value) && value >= 1 && value <= MAX_LIMIT) return value;
  throw new SluiceError(
    'usage',
    `--limit '${text}' is not a whole number from 1 to ${MAX_LIMIT}; give how many runs to list`,
  );
}
