import { PROD } from '../../core/environments.js';
import type { Logger } from '../../core/logger.js';
import type { CleanupTask, TaskOutcome } from '../../protocol/task.js';
import { readEnvironmentTarget } from '../../state/environment-store.js';
import type { StateStore } from '../../state/state-store.js';
import type { CadenceRunStarter } from '../cadence/cadence-run.js';
import { startEnvironmentRun } from './environment-runs.js';
import { runQueuedTask } from './queued-tasks.js';
import type { RunService } from './run-service.js';
import type { TaskCompletions } from './task-completions.js';

/**
 * The work the leading Scheduler hands to Executors on its own: cadence runs of the models whose
 * cron ticked, and the janitor's cleanup tasks.
 */

/** The actor cadence runs are recorded as requested by. */
export const CADENCE_ACTOR = 'cadence';

/**
 * Starts a cadence run for each request. An environment last applied by the CLI on its own (not
 * through a Scheduler) names no gateway for its work; it is left out, with a warning once.
 */
export function cadenceStarterOf(
  runs: RunService,
  store: StateStore,
  logger: Logger,
): CadenceRunStarter {
  const warned = new Set<string>();
  return async (request) => {
    if ((await readEnvironmentTarget(store, request.environment)) === undefined) {
      if (!warned.has(request.environment)) {
        warned.add(request.environment);
        logger.warn(
          { environment: request.environment },
          'environment left out of the cadence: it was last applied without the Scheduler; ' +
            'apply a plan to it through the Scheduler to have it run on its crons',
        );
      }
      return;
    }
    await startEnvironmentRun(runs, store, {
      environment: request.environment,
      kind: 'cadence',
      requestedBy: CADENCE_ACTOR,
      modelNames: request.modelNames,
      nowMs: request.nowMs,
    });
  };
}

/**
 * Runs the janitor's cleanup tasks through the queue. A cleanup drops tables of any
 * environment's versions; it is queued on prod's gateway (the project's default gateway), so a
 * project whose models live on several gateways has its other gateways' tables dropped on the
 * wrong engine's Executors. Splitting the drops per gateway needs the gateway recorded per
 * version, which the state does not hold yet.
 */
export function cleanupRunnerOf(
  store: StateStore,
  completions: TaskCompletions,
  settings: { readonly maxAttempts: number; readonly now: () => number },
): (task: CleanupTask) => Promise<TaskOutcome> {
  return async (task) => {
    const target = await readEnvironmentTarget(store, PROD);
    return runQueuedTask(task, {
      store,
      completions,
      environment: undefined,
      gateway: target?.gateway ?? 'local',
      maxAttempts: settings.maxAttempts,
      now: settings.now,
    });
  };
}
