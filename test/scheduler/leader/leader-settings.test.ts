import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { leaderOptionsOf } from '../../../src/cli/commands/scheduler-leader-options.js';
import type { StateContext } from '../../../src/cli/state-context.js';
import { resolveLeaderSettings } from '../../../src/scheduler/leader/leader-settings.js';
import { errorOf } from '../../helpers/errors.js';
import { testKeyRing, testStateKey } from '../../helpers/state-backends.js';

/** The leader's options: their defaults and checks, and the `sluice scheduler` flags for them. */

const DAY_MS = 86_400_000;

function stateOf(backend: 'sqlite' | 'postgres'): StateContext {
  const location =
    backend === 'sqlite'
      ? ({ backend, path: '/project/.sluice/state.db' } as const)
      : ({ backend, url: 'postgres://127.0.0.1/db', schema: 'sluice' } as const);
  return {
    location,
    keyRing: testKeyRing(testStateKey('k1')),
    keySource: 'test',
    keyFile: undefined,
    backupDir: '/project/.sluice/backups',
  };
}

/** The SluiceError `work` throws. */
function thrown(work: () => unknown) {
  return errorOf(Promise.resolve().then(work));
}

function capturedLogger() {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  return { logger, lines };
}

describe('the leader settings', () => {
  it('back up nightly, run the janitor hourly and keep tables a week by default', () => {
    expect(resolveLeaderSettings({})).toEqual({
      backupDir: undefined,
      backupCron: '0 2 * * *',
      retentionDays: 14,
      janitorCron: '0 * * * *',
      tableTtlMs: 7 * DAY_MS,
      leaderRetryMs: 3_000,
      cadenceMaxSleepMs: 60_000,
    });
  });

  it('refuse a schedule that is not a cron, naming it', async () => {
    const error = await thrown(() => resolveLeaderSettings({ janitorCron: 'hourly' }));
    expect(error.code).toBe('config_invalid');
    expect(error.message).toContain("The janitor schedule 'hourly' is not a cron pattern");

    const job = { name: 'prune-logs', cron: '61 * * * *', run: async () => undefined };
    expect(
      (await thrown(() => resolveLeaderSettings({ maintenanceJobs: [job] }))).message,
    ).toContain("maintenance job 'prune-logs'");
  });
});

describe('the scheduler command flags of the leader', () => {
  it('give backups the state backup folder and parse the other flags', () => {
    const { logger, lines } = capturedLogger();
    const options = leaderOptionsOf(
      {
        backupCron: '*/10 * * * * *',
        backupRetentionDays: '7',
        janitorCron: '30 * * * *',
        tableTtl: '3 days',
      },
      stateOf('sqlite'),
      logger,
      {},
    );

    expect(options).toEqual({
      backupDir: '/project/.sluice/backups',
      backupCron: '*/10 * * * * *',
      retentionDays: 7,
      janitorCron: '30 * * * *',
      tableTtlMs: 3 * DAY_MS,
    });
    expect(lines).toEqual([]);
  });

  it('warn when PostgreSQL state backs up into the project folder for want of one', () => {
    const { logger, lines } = capturedLogger();
    leaderOptionsOf({}, stateOf('postgres'), logger, {});
    leaderOptionsOf({}, stateOf('postgres'), logger, { SLUICE_BACKUP_DIR: '/backups' });

    expect(lines.map((line) => [line.level, line.msg])).toEqual([
      [40, 'state backups go to the project folder; give --backup-dir on lasting storage'],
    ]);
  });

  it('refuse a retention or table TTL that is not one, naming the flag', async () => {
    const { logger } = capturedLogger();
    const state = stateOf('sqlite');

    const retention = await thrown(() =>
      leaderOptionsOf({ backupRetentionDays: 'two' }, state, logger),
    );
    expect(retention.message).toContain("--backup-retention-days 'two' is not a number of days");
    const ttl = await thrown(() => leaderOptionsOf({ tableTtl: 'forever' }, state, logger));
    expect(ttl.message).toContain("--table-ttl 'forever' is not a duration");
  });
});
