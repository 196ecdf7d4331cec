import { SluiceError } from '../../core/errors.js';
import { DEFAULT_TABLE_TTL_MS } from '../../project/project-config.js';
import { DEFAULT_BACKUP_CRON } from '../../state/backup/nightly-backup.js';
import { checkRetentionDays, DEFAULT_RETENTION_DAYS } from '../../state/backup/prune-backups.js';
import { DEFAULT_CADENCE_MAX_SLEEP_MS } from '../cadence/cadence-loop.js';
import type { CadenceRunStarter } from '../cadence/cadence-run.js';
import type { CleanupRunner } from '../maintenance/janitor-job.js';
import { checkJobCron, type MaintenanceJob } from '../maintenance/maintenance-job.js';

/**
 * The Scheduler service's options for what its leading replica does: the election, the cadence
 * loop, the nightly backup, the janitor and further maintenance jobs. Part of
 * `SchedulerServiceOptions` and, resolved, of `ServiceSettings`; the replica's id in the election
 * is the service's `instanceId`.
 */

/** What the caller gives; every field is optional. */
export type LeaderServiceOptions = {
  /** Where the nightly backups go; without it no backups are taken on schedule. */
  readonly backupDir?: string;
  /** When backups are taken, a cron in UTC (seconds allowed); default 02:00 every day. */
  readonly backupCron?: string;
  /** Backups older than this many days are pruned; default 14. */
  readonly retentionDays?: number;
  /** When the janitor runs, a cron in UTC (seconds allowed); default every hour. */
  readonly janitorCron?: string;
  /** How long a table stays unused before the janitor drops it; default 7 days. */
  readonly tableTtlMs?: number;
  /** How often a replica that does not lead tries to, and the leader checks its hold; 3000. */
  readonly leaderRetryMs?: number;
  /**
   * The longest the cadence loop sleeps between passes, so that changed settings and new
   * environments are seen within it; default 60000.
   */
  readonly cadenceMaxSleepMs?: number;
  /** Asks for cadence runs; without it the cadence loop is not started. */
  readonly cadenceStarter?: CadenceRunStarter;
  /** Runs the janitor's cleanup tasks on Executors; without it the janitor is not started. */
  readonly runCleanup?: CleanupRunner;
  /** Further jobs the leader runs on their crons (log pruning, for one). */
  readonly maintenanceJobs?: readonly MaintenanceJob[];
};

/** The same with defaults applied and checked. */
export type LeaderSettings = {
  readonly backupDir: string | undefined;
  readonly backupCron: string;
  readonly retentionDays: number;
  readonly janitorCron: string;
  readonly tableTtlMs: number;
  readonly leaderRetryMs: number;
  readonly cadenceMaxSleepMs: number;
};

export const DEFAULT_JANITOR_CRON = '0 * * * *';
export const DEFAULT_LEADER_RETRY_MS = 3_000;

/** Applies the defaults and checks the values, so that a bad option fails at startup. */
export function resolveLeaderSettings(options: LeaderServiceOptions): LeaderSettings {
  const settings: LeaderSettings = {
    backupDir: options.backupDir,
    backupCron: checkJobCron(options.backupCron ?? DEFAULT_BACKUP_CRON, 'backup schedule'),
    retentionDays: options.retentionDays ?? DEFAULT_RETENTION_DAYS,
    janitorCron: checkJobCron(options.janitorCron ?? DEFAULT_JANITOR_CRON, 'janitor schedule'),
    tableTtlMs: options.tableTtlMs ?? DEFAULT_TABLE_TTL_MS,
    leaderRetryMs: options.leaderRetryMs ?? DEFAULT_LEADER_RETRY_MS,
    cadenceMaxSleepMs: options.cadenceMaxSleepMs ?? DEFAULT_CADENCE_MAX_SLEEP_MS,
  };

  checkRetentionDays(settings.retentionDays);
  checkWhole('table TTL in ms', settings.tableTtlMs, 60_000, 10 * 365 * 86_400_000);
  checkWhole('leader retry interval in ms', settings.leaderRetryMs, 10, 600_000);
  checkWhole('longest cadence sleep in ms', settings.cadenceMaxSleepMs, 10, 3_600_000);
  for (const job of options.maintenanceJobs ?? []) {
    checkJobCron(job.cron, `schedule of maintenance job '${job.name}'`);
  }
  return settings;
}

function checkWhole(what: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new SluiceError(
      'usage',
      `The ${what} must be a whole number from ${min} to ${max}, not ${value}`,
    );
  }
}
