import type { Logger } from '../../core/logger.js';
import type { StateStore } from '../../state/state-store.js';
import { pruneTaskLogs } from '../../state/tasks/task-log-retention.js';
import type { LeaderServiceOptions } from '../leader/leader-settings.js';
import type { MaintenanceJob } from '../maintenance/maintenance-job.js';
import type { RunService } from './run-service.js';
import { cadenceStarterOf, cleanupRunnerOf } from './scheduled-runs.js';

/**
 * What the Scheduler's leading replica does with its own run service, unless the caller gave
 * its own: cadence runs, the janitor's cleanups through the queue, and pruning task logs older
 * than the retention.
 */

/** When task logs are pruned: every hour, at a minute away from the janitor's. */
export const LOG_PRUNING_CRON = '23 * * * *';

/** The leader's options with the Scheduler's own duties filled in. */
export function withSchedulerDuties(
  options: LeaderServiceOptions,
  parts: {
    readonly store: StateStore;
    readonly runs: RunService;
    readonly logger: Logger;
    readonly logRetentionMs: number;
    readonly maxAttempts: number;
    readonly now: () => number;
  },
): LeaderServiceOptions {
  const { store, runs, logger } = parts;
  const pruning: MaintenanceJob = {
    name: 'task-log-pruning',
    cron: LOG_PRUNING_CRON,
    run: async (nowMs) => {
      const removed = await pruneTaskLogs(store, nowMs - parts.logRetentionMs);
      if (removed > 0) logger.info({ removed }, 'task log batches pruned');
    },
  };
  return {
    ...options,
    cadenceStarter: options.cadenceStarter ?? cadenceStarterOf(runs, store, logger),
    runCleanup:
      options.runCleanup ??
      cleanupRunnerOf(store, runs.completions, { maxAttempts: parts.maxAttempts, now: parts.now }),
    maintenanceJobs: [...(options.maintenanceJobs ?? []), pruning],
  };
}
