import { Cron } from 'croner';
import { SluiceError } from '../../core/errors.js';
import { type Logger, SILENT_LOGGER } from '../../core/logger.js';
import type { StateStore } from '../state-store.js';
import { createBackup } from './create-backup.js';
import { checkRetentionDays, DEFAULT_RETENTION_DAYS, pruneBackups } from './prune-backups.js';
import { verifyBackup } from './verify-backup.js';

/**
 * The scheduled backup of a store in use: on each tick of a cron schedule (in UTC) it writes a
 * backup, verifies it and prunes the folder. A failed backup is logged at error and tried again
 * at the next tick; ticks that fall while a backup still runs are skipped.
 */

/** Options of `NightlyBackup`. */
export type NightlyBackupOptions = {
  readonly dir: string;
  /** A cron pattern in UTC, with optional seconds; 02:00 every day by default. */
  readonly cron?: string;
  readonly retentionDays?: number;
  readonly logger?: Logger;
};

/** The default schedule: every day at 02:00 UTC. */
export const DEFAULT_BACKUP_CRON = '0 2 * * *';

/** Backs the store up on a schedule until stopped. */
export class NightlyBackup {
  readonly #store: StateStore;
  readonly #dir: string;
  readonly #cron: string;
  readonly #retentionDays: number;
  readonly #logger: Logger;
  #job: Cron | undefined;
  #running: Promise<void> | undefined;

  constructor(store: StateStore, options: NightlyBackupOptions) {
    this.#store = store;
    this.#dir = options.dir;
    this.#cron = options.cron ?? DEFAULT_BACKUP_CRON;
    this.#retentionDays = options.retentionDays ?? DEFAULT_RETENTION_DAYS;
    this.#logger = (options.logger ?? SILENT_LOGGER).child({ component: 'state-backup' });
    checkPattern(this.#cron);
    checkRetentionDays(this.#retentionDays);
  }

  /** Starts the schedule; calling it again while started does nothing. */
  start(): void {
    if (this.#job !== undefined) return;
    this.#job = new Cron(this.#cron, { timezone: 'UTC', protect: true }, () => this.#tick());
    const next = this.#job.nextRun();
    this.#logger.info(
      { cron: this.#cron, dir: this.#dir, nextRun: next?.toISOString() },
      'state backups scheduled',
    );
  }

  /** Stops the schedule and waits for a backup that is running to finish. */
  async stop(): Promise<void> {
    const job = this.#job;
    this.#job = undefined;
    job?.stop();
    await this.#running;
    if (job !== undefined) this.#logger.info({}, 'state backups stopped');
  }

  /** One scheduled run; `#running` is set before any of its work starts, for `stop()`. */
  #tick(): Promise<void> {
    const run = Promise.resolve().then(() => this.#runOnce());
    this.#running = run;
    void run.finally(() => {
      if (this.#running === run) this.#running = undefined;
    });
    return run;
  }

  async #runOnce(): Promise<void> {
    const startedMs = Date.now();
    this.#logger.debug({ dir: this.#dir }, 'state backup started');
    try {
      const backup = await createBackup(this.#store, { dir: this.#dir, reason: 'nightly' });
      await verifyBackup(backup.path, this.#store.keyRing);
      const removed = await pruneBackups(this.#dir, { retentionDays: this.#retentionDays });
      this.#logger.info(
        {
          path: backup.path,
          sizeBytes: backup.sizeBytes,
          durationMs: Date.now() - startedMs,
          prunedFiles: removed.length,
        },
        'state backup written and verified',
      );
    } catch (error) {
      this.#logger.error(
        { dir: this.#dir, code: codeOf(error), error: messageOf(error), nextRun: this.#nextRun() },
        'state backup failed; it is tried again at the next scheduled time',
      );
    }
  }

  #nextRun(): string | undefined {
    return this.#job?.nextRun()?.toISOString();
  }
}

function checkPattern(pattern: string): void {
  try {
    new Cron(pattern, { timezone: 'UTC', paused: true }).stop();
  } catch (error) {
    throw new SluiceError(
      'config_invalid',
      `The backup schedule '${pattern}' is not a cron pattern (${messageOf(error)}); write five ` +
        "or six fields, such as '0 2 * * *' for 02:00 UTC every day",
      { cause: error },
    );
  }
}

function codeOf(error: unknown): string {
  return error instanceof SluiceError ? error.code : 'internal';
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
