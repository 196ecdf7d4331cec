import { hostname } from 'node:os';
import { SluiceError } from '../../core/errors.js';
import type { EngineAdapters } from '../../executor/engines/engine-adapters.js';
import type { SchedulerConnection } from '../../executor/protocol/scheduler-connection.js';
import type { ProjectConfig } from '../../project/project-config.js';
import type { ExecutorPlan } from './executor-command.js';

/**
 * `sluice executor --check`, the container health check: the Executor's client gets a token and
 * says hello (so the Scheduler is reachable and the client may pull from the pools), then the
 * default gateway's engine is opened and pinged. Each step prints one line; the first that fails
 * ends the check with its error, and the command exits non-zero. The hello is said under the
 * Executor's id (`--id`, or `HOST-check`), with its pools and slots: it changes nothing for an
 * Executor of the same id already running.
 */

/** What the check uses. */
export type ExecutorCheck = {
  readonly connection: SchedulerConnection;
  readonly adapters: EngineAdapters;
  readonly plan: ExecutorPlan;
  readonly project: ProjectConfig;
  readonly out: NodeJS.WritableStream;
  /** How long reaching the Scheduler may take; default 15 s. */
  readonly timeoutMs?: number;
};

const DEFAULT_TIMEOUT_MS = 15_000;

/** Runs the check; throws the first step's failure. */
export async function checkExecutor(check: ExecutorCheck): Promise<void> {
  await checkScheduler(check);
  const gateway = check.project.defaultGateway;
  const adapter = await check.adapters.adapterOf(gateway);
  await adapter.ping();
  check.out.write(`engine: gateway '${gateway}' (${adapter.type}) answers\n`);
}

async function checkScheduler(check: ExecutorCheck): Promise<void> {
  const { connection, plan } = check;
  const timeoutMs = check.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const executorId = plan.isIdGiven ? plan.executorId : `${hostname()}-check`;
  try {
    const hello = await connection.hello(
      {
        executor_id: executorId,
        agent: 'sluice-executor-check',
        pools: [...plan.pools],
        slots: plan.slots,
      },
      AbortSignal.timeout(timeoutMs),
    );
    check.out.write(
      `scheduler: ${connection.displayUrl} answers (protocol ${hello.protocol_version}, ` +
        `pools ${plan.pools.join(', ')})\n`,
    );
  } catch (error) {
    if (error instanceof SluiceError && error.code !== 'state_unreachable') throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw new SluiceError(
      'state_unreachable',
      `The Scheduler at ${connection.displayUrl} did not answer within ${timeoutMs / 1000} s ` +
        `(${reason}); check SLUICE_URL, the network path and any proxy (HTTPS_PROXY)`,
    );
  }
}
