import { SluiceError } from '../../core/errors.js';
import { loadProject } from '../../project/project-loader.js';
import { buildRunGraph } from '../../scheduler/runs/run-graph.js';
import { createSqlParser } from '../../sql/sql-parser.js';
import { saveSnapshots } from '../../state/snapshot-store.js';
import { runLocally } from '../local-run.js';
import type { CommandContext } from '../output.js';
import { projectVersions, withEngine } from '../project-run-setup.js';
import { RUN_FORMATS, type RunFormat, RunReporter } from '../run-reporter.js';
import type { StateCliOptions } from '../state-context.js';
import { withStore } from '../with-state.js';

export type RunCommandOptions = StateCliOptions & {
  readonly concurrency?: string;
  readonly format?: string;
};

/** Tasks run at once when --concurrency is not given. */
export const DEFAULT_CONCURRENCY = 4;

/**
 * `sluice run [ENV]`: evaluates what is due now for every model, in dependency order, independent
 * models in parallel. The project's current versions are recorded in the state store, each
 * version's table is created on first use, and each model's missing intervals are evaluated in
 * batches; a failure skips only the models downstream of it. Exits non-zero when anything failed.
 */
export async function runCommand(
  context: CommandContext,
  environment: string | undefined,
  options: RunCommandOptions,
): Promise<void> {
  const format = parseFormat(options.format ?? 'text');
  const slots = parseConcurrency(options.concurrency);
  const environmentName = checkEnvironment(environment ?? 'prod');

  const project = await loadProject(context.projectDir, { logger: context.logger });
  const { gateway, snapshots } = await projectVersions(project);
  const graph = buildRunGraph(snapshots, project.dag.nodes, {
    projectName: project.config.name,
    gateway: gateway.name,
    variables: project.config.variables,
  });
  const reporter = new RunReporter(context.output, format, graph.size);
  const startedAtMs = Date.now();

  const result = await withStore(context, options, true, async (store) => {
    await saveSnapshots(store, [...snapshots.values()]);
    return withEngine(project, gateway, async (adapter) => {
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
  });

  const durationMs = Date.now() - startedAtMs;
  reporter.finish({ ...result, environment: environmentName, startedAtMs, durationMs });
  const failed = result.models.filter((model) => model.outcome === 'failed');
  if (failed.length > 0) {
    const names = failed.map((model) => `'${model.modelName}'`).join(', ');
    throw new SluiceError(
      'run_failed',
      `${failed.length} of ${result.models.length} models failed: ${names}; the summary above ` +
        "says why. Fix them and run 'sluice run' again: intervals already done are kept",
    );
  }
}

/** Runs `work` with a signal that Ctrl-C (SIGINT) or SIGTERM aborts. */
async function withInterrupt<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const abort = () =>
    controller.abort(new SluiceError('query_cancelled', 'The run was interrupted'));
  process.once('SIGINT', abort);
  process.once('SIGTERM', abort);
  try {
    return await work(controller.signal);
  } finally {
    process.off('SIGINT', abort);
    process.off('SIGTERM', abort);
  }
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
    `--concurrency '${text}' is not a whole number from 1 to 256; give how many tasks may run at once`,
  );
}

/**
 * Environments other than prod are created by plans, which this release does not have yet; until
 * then a run evaluates the project's current versions, which is what prod will hold.
 */
function checkEnvironment(name: string): string {
  if (name === 'prod') return name;
  throw new SluiceError(
    'usage',
    `Environment '${name}' does not exist: environments other than prod are created by plans, ` +
      "which are not supported yet. Run 'sluice run' (prod)",
  );
}
