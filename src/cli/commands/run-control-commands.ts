import { SluiceError } from '../../core/errors.js';
import {
  cancelRunResponseSchema,
  type RunInfo,
  runStartedResponseSchema,
} from '../../protocol/runs-api.js';
import type { ModelResult } from '../../scheduler/runs/run-coordinator.js';
import { SchedulerApiClient } from '../api-client.js';
import { remoteSettingsOf } from '../client-access.js';
import type { CommandContext } from '../output.js';
import { followRemoteRun, remoteModelResults, remoteRunError } from '../remote-runs.js';
import { readRemoteRun } from '../run-access.js';
import { RunReporter } from '../run-reporter.js';

/**
 * `sluice runs cancel ID` and `sluice runs rerun ID [--wait]`. Runs are coordinated by the
 * Scheduler that started them, so both act through its API only: without SLUICE_URL they refuse,
 * saying what does the work in this process instead.
 */

/**
 * A client of the Scheduler for a command that only it can carry out; without SLUICE_URL, an
 * error that says so and, in `instead`, what does the work in this process.
 */
export function schedulerFor(command: string, instead: string): SchedulerApiClient {
  const remote = remoteSettingsOf(process.env);
  if (remote !== undefined) return new SchedulerApiClient(remote);
  throw new SluiceError(
    'usage',
    `'sluice ${command}' needs the Scheduler, which coordinates runs: set SLUICE_URL, ` +
      `SLUICE_CLIENT_ID and SLUICE_CLIENT_SECRET. ${instead}`,
  );
}

/** `sluice runs cancel ID`: queued tasks are cancelled, Executors running one are told. */
export async function runsCancelCommand(context: CommandContext, runId: string): Promise<void> {
  const api = schedulerFor(
    'runs cancel',
    "A run in this process ('sluice run', 'sluice plan') stops with Ctrl-C.",
  );
  const { run } = await readRemoteRun(api, runId);

  await api.call({
    method: 'POST',
    path: `${environmentRunPath(run)}/cancel`,
    body: {},
    schema: cancelRunResponseSchema,
  });

  const out = context.output.stdout;
  if (run.status !== 'running') {
    out.write(`Run ${run.id} of '${run.environment}' had already ended (${run.status}).\n`);
  } else {
    out.write(
      `Asked run ${run.id} of '${run.environment}' to stop: its queued tasks are cancelled, ` +
        'and Executors running one stop at their next heartbeat.\n',
    );
  }
}

/**
 * `sluice runs rerun ID [--wait]`: runs again what a finished run failed (a failed apply: its
 * plan) and prints the new run's id; with --wait, follows it and fails when it fails.
 */
export async function runsRerunCommand(
  context: CommandContext,
  runId: string,
  options: { readonly wait?: boolean },
): Promise<void> {
  const api = schedulerFor(
    'runs rerun',
    "In this process, 'sluice run ENV' runs again what is due and 'sluice apply PLAN' resumes a " +
      'failed plan.',
  );
  const { run } = await readRemoteRun(api, runId);

  const started = await api.call({
    method: 'POST',
    path: `${environmentRunPath(run)}/rerun`,
    body: {},
    schema: runStartedResponseSchema,
  });
  context.output.stdout.write(
    `Started run ${started.run_id} of '${run.environment}' to run again what run ${run.id} ` +
      'failed.\n',
  );
  if (options.wait !== true) return;

  const modelCount = remoteModelResults(run).length;
  const finished = await followWithReporter(context, api, started.run_id, modelCount);
  checkSucceeded(finished);
}

/**
 * Follows a run on the Scheduler, printing its progress as `sluice run` does and its summary
 * once it ended; the run as it ended.
 */
async function followWithReporter(
  context: CommandContext,
  api: SchedulerApiClient,
  runId: string,
  modelCount: number,
): Promise<RunInfo> {
  const reporter = new RunReporter(context.output, 'text', modelCount);
  const run = await followRemoteRun(api, runId, (event) => reporter.onEvent(event));

  const models = remoteModelResults(run);
  if (models.length === 0) return run;
  reporter.finish({
    runId,
    environment: run.environment,
    startedAtMs: run.created_at_ms,
    durationMs: (run.finished_at_ms ?? Date.now()) - run.created_at_ms,
    models,
  });
  return run;
}

/** Fails the command, naming the models that failed, unless the run succeeded. */
function checkSucceeded(run: RunInfo): void {
  if (run.status === 'succeeded') return;
  const models = remoteModelResults(run);
  const failed = models.filter((model) => model.outcome === 'failed');
  if (failed.length === 0) {
    throw remoteRunError(run) ?? new SluiceError('run_failed', `Run ${run.id} ${run.status}`);
  }
  throw new SluiceError(
    'run_failed',
    `Run ${run.id} failed: ${failed.length} of ${models.length} models failed ` +
      `(${modelNames(failed)}); the summary above says why. Fix the cause and run ` +
      `'sluice runs rerun ${run.id}'`,
  );
}

/** The path of a run's actions under its environment. */
function environmentRunPath(run: RunInfo): string {
  const environment = encodeURIComponent(run.environment);
  return `/v1/environments/${environment}/runs/${encodeURIComponent(run.id)}`;
}

/** Model names quoted and joined. */
function modelNames(models: readonly ModelResult[]): string {
  return models.map((model) => `'${model.modelName}'`).join(', ');
}
