import type { Logger } from '../../core/logger.js';
import { NightlyBackup, type NightlyBackupOptions } from '../../state/backup/nightly-backup.js';
import type { StateStore } from '../../state/state-store.js';
import { type CleanupRunner, janitorJob } from './janitor-job.js';
import { type MaintenanceJob, type ScheduledJob, scheduleJob } from './maintenance-job.js';

/**
 * The maintenance the leading Scheduler does on schedule: the nightly state backup, the janitor,
 * and any further jobs the service is given. Each is optional; what is started is stopped, in the
 * reverse order, by `stop`.
 */

/** The janitor's part: how cleanup tasks run, the table TTL and the cron. */
export type JanitorSchedule = {
  readonly runCleanup: CleanupRunner;
  readonly tableTtlMs: number;
  readonly cron: string;
};

/** What to start. */
export type MaintenanceOptions = {
  readonly store: StateStore;
  readonly logger: Logger;
  /** The nightly backup's folder, cron and retention; undefined: no backups. */
  readonly backup: NightlyBackupOptions | undefined;
  /** Undefined: no janitor. */
  readonly janitor: JanitorSchedule | undefined;
  readonly jobs: readonly MaintenanceJob[];
};

/** Started maintenance. */
export type Maintenance = { stop(): Promise<void> };

/** Starts the backup schedule and the jobs. */
export function startMaintenance(options: MaintenanceOptions): Maintenance {
  const logger = options.logger.child({ component: 'maintenance' });
  const backup =
    options.backup === undefined
      ? undefined
      : new NightlyBackup(options.store, { ...options.backup, logger: options.logger });

  const jobs = [...options.jobs];
  if (options.janitor !== undefined) {
    const janitorLogger = options.logger.child({ component: 'janitor' });
    jobs.unshift(janitorJob({ store: options.store, logger: janitorLogger, ...options.janitor }));
  }

  backup?.start();
  const scheduled: ScheduledJob[] = jobs.map((job) => scheduleJob(job, logger));
  return {
    stop: async () => {
      for (const job of scheduled.reverse()) await job.stop();
      await backup?.stop();
    },
  };
}
