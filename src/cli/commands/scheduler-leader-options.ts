import { parseDuration } from '../../core/duration.js';
import { SluiceError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { LeaderServiceOptions } from '../../scheduler/leader/leader-settings.js';
import type { StateContext } from '../state-context.js';

/**
 * The options of `sluice scheduler` for what its leading replica does on schedule: the nightly
 * backup and the janitor.
 *
 * Backups go where the state's other backups go (`--backup-dir`, SLUICE_BACKUP_DIR, else the
 * project's `.sluice/backups`), whatever the backend. With PostgreSQL state and no folder given,
 * the project's folder is used and a warning says to give one on lasting storage: a Scheduler
 * in a container would otherwise write its backups where they do not outlive it.
 */

/** The flags as the command line gives them. */
export type SchedulerLeaderCliOptions = {
  readonly backupDir?: string;
  readonly backupCron?: string;
  readonly backupRetentionDays?: string;
  readonly janitorCron?: string;
  readonly tableTtl?: string;
};

type ScheduleOptions = Pick<
  LeaderServiceOptions,
  'backupDir' | 'backupCron' | 'retentionDays' | 'janitorCron' | 'tableTtlMs'
>;

/** The service options of the flags; the crons are checked when the service starts. */
export function leaderOptionsOf(
  options: SchedulerLeaderCliOptions,
  state: StateContext,
  logger: Logger,
  env: NodeJS.ProcessEnv = process.env,
): ScheduleOptions {
  const isFolderGiven = options.backupDir !== undefined || env.SLUICE_BACKUP_DIR !== undefined;
  if (state.location.backend === 'postgres' && !isFolderGiven) {
    logger.warn(
      { dir: state.backupDir },
      'state backups go to the project folder; give --backup-dir on lasting storage',
    );
  }
  return {
    backupDir: state.backupDir,
    ...(options.backupCron === undefined ? {} : { backupCron: options.backupCron }),
    ...(options.backupRetentionDays === undefined
      ? {}
      : { retentionDays: parseRetentionDays(options.backupRetentionDays) }),
    ...(options.janitorCron === undefined ? {} : { janitorCron: options.janitorCron }),
    ...(options.tableTtl === undefined
      ? {}
      : { tableTtlMs: parseDuration(options.tableTtl, '--table-ttl') }),
  };
}

function parseRetentionDays(text: string): number {
  const days = /^\d{1,5}$/.test(text) ? Number(text) : Number.NaN;
  if (Number.isNaN(days)) {
    throw new SluiceError(
      'usage',
      `--backup-retention-days '${text}' is not a number of days; give a whole number such ` +
        'as 14 (the default), or 0 to keep only the newest backup',
    );
  }
  return days;
}
