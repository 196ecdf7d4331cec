import { Cron } from 'croner';
import { SluiceError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';

/**
 * A maintenance job of the leading Scheduler: work on a cron schedule in UTC (five fields, or six
 * with seconds). A tick that falls while the previous run still works is skipped; a run that
 * fails is logged at error, and the job runs again at its next tick.
 */

/** A job: a name for the log, its cron, and the work of one tick. */
export type MaintenanceJob = {
  readonly name: string;
  readonly cron: string;
  /** The work of one tick; `nowMs` is when the tick fired. */
  run(nowMs: number): Promise<void>;
};

/** A scheduled job. */
export type ScheduledJob = {
  /** Stops the schedule and waits for a run in progress to finish. */
  stop(): Promise<void>;
};

/** Schedules a job until stopped. */
export function scheduleJob(job: MaintenanceJob, logger: Logger): ScheduledJob {
  const log = logger.child({ job: job.name });
  let running: Promise<void> | undefined;

  const tick = (cron: Cron): Promise<void> => {
    const tickMs = cron.currentRun()?.getTime() ?? Date.now();
    const run = runOnce(job, tickMs, log);
    running = run;
    void run.finally(() => {
      if (running === run) running = undefined;
    });
    return run;
  };
  const cron = new Cron(job.cron, { timezone: 'UTC', protect: true }, tick);
  log.info({ cron: job.cron, nextRun: cron.nextRun()?.toISOString() }, 'maintenance job scheduled');

  return {
    stop: async () => {
      cron.stop();
      await running;
      log.info({}, 'maintenance job stopped');
    },
  };
}

/** Checks a job's cron before anything starts; the error names the option to fix. */
export function checkJobCron(pattern: string, what: string): string {
  try {
    new Cron(pattern, { timezone: 'UTC', paused: true }).stop();
    return pattern;
  } catch (error) {
    throw new SluiceError(
      'config_invalid',
      `The ${what} '${pattern}' is not a cron pattern (${messageOf(error)}); write five fields, ` +
        "or six with seconds first, such as '0 * * * *' for every hour (in UTC)",
      { cause: error },
    );
  }
}

async function runOnce(job: MaintenanceJob, tickMs: number, logger: Logger): Promise<void> {
  const startedMs = Date.now();
  logger.debug({ tick: new Date(tickMs).toISOString() }, 'maintenance job started');
  try {
    await job.run(tickMs);
    logger.debug({ durationMs: Date.now() - startedMs }, 'maintenance job finished');
  } catch (error) {
    const code = error instanceof SluiceError ? error.code : 'internal';
    logger.error(
      { code, error: messageOf(error) },
      'maintenance job failed; it runs again at its next scheduled time',
    );
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
