import type { Logger } from '../../core/logger.js';
import type { StateStore } from '../../state/state-store.js';
import { startCadenceLoop } from '../cadence/cadence-loop.js';
import type { ServiceMetrics } from '../http/metrics.js';
import type { ServiceSettings } from '../http/service-options.js';
import { startMaintenance } from '../maintenance/maintenance.js';
import { type LeaderDuties, type LeaderElection, startLeaderElection } from './leader-election.js';
import type { LeaderServiceOptions } from './leader-settings.js';

/**
 * What the leading Scheduler replica does, put together: the cadence loop (given a run starter),
 * the nightly backup (given a folder), the janitor (given a way to run cleanup tasks) and further
 * maintenance jobs. The election starts them when this replica is elected and stops them when
 * it stops leading; `/metrics` shows whether it leads.
 */

/** What the leadership is built from: the service's store, log, settings, options and metrics. */
export type LeadershipParts = {
  readonly store: StateStore;
  readonly logger: Logger;
  readonly settings: ServiceSettings;
  readonly options: LeaderServiceOptions;
  readonly metrics: ServiceMetrics;
};

/** Starts this replica's election; says at info which duties it will not have. */
export function startLeadership(parts: LeadershipParts): LeaderElection {
  reportMissingDuties(parts);
  return startLeaderElection({
    store: parts.store,
    logger: parts.logger,
    instanceId: parts.settings.instanceId,
    retryMs: parts.settings.leaderRetryMs,
    onChange: (isLeader) => parts.metrics.isLeader.set(isLeader ? 1 : 0),
    onElected: async () => startDuties(parts),
  });
}

function startDuties(parts: LeadershipParts): LeaderDuties {
  const { store, logger, settings, options } = parts;
  const cadence =
    options.cadenceStarter === undefined
      ? undefined
      : startCadenceLoop({
          store,
          logger,
          starter: options.cadenceStarter,
          maxSleepMs: settings.cadenceMaxSleepMs,
        });
  const maintenance = startMaintenance({
    store,
    logger,
    backup:
      settings.backupDir === undefined
        ? undefined
        : {
            dir: settings.backupDir,
            cron: settings.backupCron,
            retentionDays: settings.retentionDays,
          },
    janitor:
      options.runCleanup === undefined
        ? undefined
        : {
            runCleanup: options.runCleanup,
            tableTtlMs: settings.tableTtlMs,
            cron: settings.janitorCron,
          },
    jobs: options.maintenanceJobs ?? [],
  });

  return {
    stop: async () => {
      await cadence?.stop();
      await maintenance.stop();
    },
  };
}

function reportMissingDuties(parts: LeadershipParts): void {
  const logger = parts.logger.child({ component: 'leader' });
  if (parts.options.cadenceStarter === undefined) {
    logger.info({}, 'no cadence: this Scheduler was started without a run starter');
  }
  if (parts.options.runCleanup === undefined) {
    logger.info({}, 'no janitor: this Scheduler was started without a way to run cleanup tasks');
  }
  if (parts.settings.backupDir === undefined) {
    logger.info({}, 'no state backups on schedule: no backup folder was given');
  }
}
