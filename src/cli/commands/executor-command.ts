import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { parseDuration } from '../../core/duration.js';
import { SluiceError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { TaskPool } from '../../core/task-pool.js';
import { EngineAdapters } from '../../executor/engines/engine-adapters.js';
import { engineTaskFunction } from '../../executor/engines/engine-task-function.js';
import { readCaBundle, SchedulerConnection } from '../../executor/protocol/scheduler-connection.js';
import {
  type DataValuePolicy,
  dataValuePolicyFromEnv,
} from '../../executor/redaction/data-value-policy.js';
import { redactLogLine } from '../../executor/redaction/redact-task-output.js';
import { startWorker } from '../../executor/worker/worker.js';
import { createGatewayCredentials } from '../../gateway/gateway-credentials.js';
import { readGatewayCredentialsConfig } from '../../gateway/gateway-credentials-config.js';
import { loadProjectConfig, type ProjectConfig } from '../../project/project-config.js';
import { MAX_SLOTS } from '../../protocol/tasks-api.js';
import { createSqlParser } from '../../sql/sql-parser.js';
import { executorSettings } from '../executor-settings.js';
import type { CommandContext } from '../output.js';
import { createServiceLogger, nextStopSignal } from '../service-runtime.js';
import { checkExecutor } from './executor-check.js';

/**
 * `sluice executor`: pulls tasks from the Scheduler at SLUICE_URL and runs them on the engines of
 * the project's gateways, with credentials resolved where it runs (environment variables,
 * mounted Secret files, sluice.yaml references). It opens no listening socket: every exchange is
 * a request it makes. On SIGTERM or SIGINT it stops claiming, lets running tasks finish within
 * the grace period, then cancels and releases the rest and returns, so the process exits 0.
 * `--check` says whether it can authenticate, reach the Scheduler and open its default gateway's
 * engine, and exits non-zero when it cannot: the container health check.
 */

/** The options of `sluice executor`, as the command line gives them. */
export type ExecutorCommandOptions = {
  readonly pool?: string;
  readonly slots?: string;
  readonly id?: string;
  readonly grace?: string;
  readonly envFile?: string;
  readonly caFile?: string;
  readonly logLevel?: string;
  readonly check?: boolean;
};

/** The options with defaults applied and checked. */
export type ExecutorPlan = {
  readonly pools: readonly TaskPool[];
  readonly slots: number;
  readonly executorId: string;
  /** Whether `--id` named the Executor (otherwise the id is made up at start). */
  readonly isIdGiven: boolean;
  readonly graceMs: number;
  /** Whether engine errors lose their data values before they leave (SLUICE_LOG_DATA_VALUES). */
  readonly dataValues: DataValuePolicy;
};

const AGENT = 'sluice-executor/0.1.0';
const DEFAULT_SLOTS = 4;
const DEFAULT_GRACE_MS = 30_000;

/** Runs an Executor until it is told to stop, or checks that one could run (`--check`). */
export async function executorCommand(
  context: CommandContext,
  options: ExecutorCommandOptions,
): Promise<void> {
  const plan = executorPlanOf(options);
  const logger = createServiceLogger(options.logLevel ?? 'info', context.output.stdout);
  const settings = await executorSettings(
    process.env,
    options.envFile ?? process.env.SLUICE_ENV_FILE,
  );
  const caFile = options.caFile ?? process.env.SLUICE_CA_FILE;
  const connection = new SchedulerConnection({
    url: settings.url,
    credentials: settings.credentials,
    ...(caFile === undefined ? {} : { extraCa: await readCaBundle(caFile) }),
    logger,
  });
  const project = await loadProjectConfig(context.projectDir);
  const adapters = engineAdaptersOf(project, context.projectDir, logger);

  try {
    if (options.check === true) {
      await checkExecutor({ connection, adapters, plan, project, out: context.output.stdout });
      return;
    }
    await serve(connection, adapters, plan, project, logger);
  } finally {
    connection.close();
    await adapters.close();
  }
}

async function serve(
  connection: SchedulerConnection,
  adapters: EngineAdapters,
  plan: ExecutorPlan,
  project: ProjectConfig,
  logger: Logger,
): Promise<void> {
  const parser = await createSqlParser();
  const log = logger.child({ component: 'executor', executorId: plan.executorId });
  try {
    const worker = startWorker({
      connection,
      executorId: plan.executorId,
      agent: AGENT,
      pools: plan.pools,
      slots: plan.slots,
      logger,
      runTask: engineTaskFunction({
        adapters,
        parser,
        defaultGateway: project.defaultGateway,
        redact: (text) => redactLogLine(text, plan.dataValues),
        logger: log,
      }),
    });
    log.info({ scheduler: connection.displayUrl, pools: plan.pools, slots: plan.slots }, 'started');

    const stopped = await Promise.race([nextStopSignal(), worker.done.then(() => undefined)]);
    if (stopped !== undefined) {
      log.info({ signal: stopped, graceMs: plan.graceMs }, 'stopping');
      await worker.stop(plan.graceMs);
    }
    await worker.done;
    log.info({}, 'stopped');
  } finally {
    await parser.close();
  }
}

function engineAdaptersOf(project: ProjectConfig, projectDir: string, logger: Logger) {
  const credentials = createGatewayCredentials({
    gateways: project.gateways,
    baseDir: projectDir,
    env: process.env,
    config: readGatewayCredentialsConfig(process.env),
  });
  return new EngineAdapters((gateway) => credentials.resolve(gateway), logger);
}

/** Checks the command line's options and applies the defaults. */
export function executorPlanOf(options: ExecutorCommandOptions): ExecutorPlan {
  return {
    pools: poolsOf(options.pool ?? 'all'),
    slots: slotsOf(options.slots),
    executorId: options.id ?? `${hostname()}-${randomBytes(3).toString('hex')}`,
    isIdGiven: options.id !== undefined,
    graceMs:
      options.grace === undefined ? DEFAULT_GRACE_MS : parseDuration(options.grace, '--grace'),
    dataValues: dataValuePolicyFromEnv(process.env),
  };
}

function poolsOf(text: string): readonly TaskPool[] {
  if (text === 'all') return ['apply', 'run'];
  if (text === 'apply' || text === 'run') return [text];
  throw new SluiceError(
    'usage',
    `--pool '${text}' is not a pool; use 'run' (cadence work), 'apply' (plan work) or 'all'`,
  );
}

function slotsOf(text: string | undefined): number {
  if (text === undefined) return DEFAULT_SLOTS;
  const slots = /^\d{1,3}$/.test(text) ? Number(text) : Number.NaN;
  if (slots >= 1 && slots <= MAX_SLOTS) return slots;
  throw new SluiceError(
    'usage',
    `--slots '${text}' is not a number of slots; give a whole number from 1 to ${MAX_SLOTS}`,
  );
}
