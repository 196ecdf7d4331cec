import { checkEnvironmentName, PROD } from '../../core/environments.js';
import { SluiceError } from '../../core/errors.js';
import { loadProject } from '../../project/project-loader.js';
import { environmentResponseSchema } from '../../protocol/environments-api.js';
import type { ModelResult } from '../../scheduler/runs/run-coordinator.js';
import { buildRunGraph } from '../../scheduler/runs/run-graph.js';
import { snapshotOrder } from '../../scheduler/runs/snapshot-order.js';
import { createSqlParser } from '../../sql/sql-parser.js';
import { touchEnvironment } from '../../state/environment-store.js';
import { SchedulerApiClient } from '../api-client.js';
import { remoteSettingsOf } from '../client-access.js';
import { withInterrupt } from '../interrupt.js';
import { runLocally } from '../local-run.js';
import type { CommandContext } from '../output.js';
import { defaultGatewayOf, withEngine } from '../project-run-setup.js';
import {
  followRemoteRun,
  remoteModelResults,
  remoteRunError,
  startRemoteRun,
} from '../remote-runs.js';
import { RUN_FORMATS, type RunFormat, RunReporter } from '../run-reporter.js';
import type { StateCliOptions } from '../state-context.js';
import { withStore } from '../with-state.js';
import { environmentSnapshots } from './environment-commands.js';

export type RunCommandOptions = StateCliOptions & {
  readonly concurrency?: string;
  readonly format?: string;
};

/** Tasks run at once when --concurrency is not given. */
export const DEFAULT_CONCURRENCY = 4;

/**
 * `sluice run [ENV]`: evaluates what is due now for every model of the environment, as its last
 * plan promoted it (the project on disk is not read for models: changing them is a plan's work),
 * in dependency order, independent models in parallel. Each model's missing intervals are
 * evaluated in batches; a failure skips only the models downstream of it. Exits non-zero when
 * anything failed.
 */
export async function runCommand(
  context: CommandContext,
  environment: string | undefined,
  options: RunCommandOptions,
): Promise<void> {
  const format = parseFormat(options.format ?? 'text');
  const slots = parseConcurrency(options.concurrency);
  const environmentName = checkEnvironmentName(environment ?? PROD);
  const remote = remoteSettingsOf(process.env);
  if (remote !== undefined) {
    const models = await runRemotely(
      context,
      new SchedulerApiClient(remote),
      environmentName,
      format,
    );
    checkRunResults(models);
    return;
  }

  const project = await loadProject(context.projectDir, { logger: context.logger });
  const gateway = defaultGatewayOf(project);
  const startedAtMs = Date.now();

  const result = await withStore(context, options, true, async (store) => {
    const snapshots = await environmentSnapshots(store, environmentName);
    const ttlMs = environmentName === PROD ? undefined : project.config.environmentTtlMs;
    await touchEnvironment(store, environmentName, ttlMs);
    const graph = buildRunGraph(snapshots, snapshotOrder(snapshots), {
      projectName: project.config.name,
      gateway: gateway.name,
    });
    const reporter = new RunReporter(context.output, format, graph.size);
    const models = await withEngine(project, gateway, async (adapter) => {
      const parser = await createSqlParser();
      try {
        return await withInterrupt((signal) =>
          runLocally({
            store,
            graph,
            adapter,
            parser,
            pool: 'run',
            slots,
            nowMs: startedAtMs,
            signal,
            logger: context.logger,
            onEvent: (event) => reporter.onEvent(event),
          }),
        );
      } finally {
        await parser.close();
      }
    });
    const durationMs = Date.now() - startedAtMs;
    reporter.finish({ ...models, environment: environmentName, startedAtMs, durationMs });
    return models;
  });

  checkRunResults(result.models);
}

/**
 * A run of the environment by the Scheduler, its progress and summary printed as the local mode
 * prints them; the model results.
 */
async function runRemotely(
  context: CommandContext,
  api: SchedulerApiClient,
  environment: string,
  format: RunFormat,
): Promise<readonly ModelResult[]> {
  const startedAtMs = Date.now();
  const shown = await api.call({
    method: 'GET',
    path: `/v1/environments/${encodeURIComponent(environment)}`,
    schema: environmentResponseSchema,
  });
  const reporter = new RunReporter(context.output, format, shown.environment.models);
  const runId = await startRemoteRun(api, environment);
  const run = await followRemoteRun(api, runId, (event) => reporter.onEvent(event));
  const error = remoteRunError(run);
  if (error !== undefined && run.status !== 'failed') throw error;

  const models = remoteModelResults(run);
  if (models.length === 0 && error !== undefined) throw error;
  const durationMs = Date.now() - startedAtMs;
  reporter.finish({ runId, models, environment, startedAtMs, durationMs });
  return models;
}

/** Fails the command, naming the models, when any model of the run failed. */
function checkRunResults(models: readonly ModelResult[]): void {
  const failed = models.filter((model) => model.outcome === 'failed');
  if (failed.length === 0) return;
  const names = failed.map((model) => `'${model.modelName}'`).join(', ');
  throw new SluiceError(
    'run_failed',
    `${failed.length} of ${models.length} models failed: ${names}; the summary above ` +
      "says why. Fix the cause (a change to a model goes through 'sluice plan') and run again: " +
      'intervals already done are kept',
  );
}

function parseFormat(format: string): RunFormat {
  const match = RUN_FORMATS.find((candidate) => candidate === format.toLowerCase());
  if (match !== undefined) return match;
  throw new SluiceError(
    'usage',
    `Unknown format '${format}'; use one of: ${RUN_FORMATS.join(', ')}`,
  );
}

function parseConcurrency(text: string | undefined): number {
  if (text === undefined) return DEFAULT_CONCURRENCY;
  const value = Number(text.trim());
  if (Number.isSafeInteger(value) && value >= 1 && value <= 256) return value;
  throw new SluiceError(
    'usage',
    `--concurrency '${text}' is not a whole number from 1 to 256; ` +
      'give how many tasks may run at once',
  );
}
