import type { Logger } from '../../core/logger.js';
import { IDENTIFIER_LIMIT_BYTES } from '../../core/physical-table.js';
import type { CleanupTask, TaskOutcome } from '../../protocol/task.js';
import { listEnvironments } from '../../state/environment-store.js';
import { findSnapshots } from '../../state/snapshot-store.js';
import type { StateStore } from '../../state/state-store.js';
import { expiredEnvironmentsOf } from '../janitor/plan-janitor.js';
import { runJanitor } from '../janitor/run-janitor.js';
import type { MaintenanceJob } from './maintenance-job.js';

/**
 * The janitor as a maintenance job: each tick runs one janitor pass, whose cleanup tasks go to
 * Executors through `runCleanup`, and logs what it dropped.
 *
 * The janitor fits the views of expired environments to the engine's identifier limit, but the
 * Scheduler holds no gateway settings. It takes the limit from the SQL dialect of the models in
 * those environments (a project's dialect is its default gateway's engine unless sluice.yaml sets
 * `model_defaults.dialect`), the tightest when they differ. A project that writes its models in
 * another engine's dialect may therefore get view names fitted to the wrong limit, which matters
 * only for view schemas longer than 63 bytes; recording the gateway's engine type with each
 * environment's promotion would make this exact.
 */

/** Runs one cleanup task on an Executor and reports how it ended. */
export type CleanupRunner = (task: CleanupTask) => Promise<TaskOutcome>;

/** What the janitor job needs. */
export type JanitorJobOptions = {
  readonly store: StateStore;
  readonly runCleanup: CleanupRunner;
  readonly tableTtlMs: number;
  readonly cron: string;
  readonly logger: Logger;
};

/** The janitor on `cron`. */
export function janitorJob(options: JanitorJobOptions): MaintenanceJob {
  return {
    name: 'janitor',
    cron: options.cron,
    run: async (nowMs) => {
      const now = new Date(nowMs);
      const report = await runJanitor(
        {
          store: options.store,
          runCleanup: options.runCleanup,
          identifierLimitBytes: await identifierLimitOf(options.store, now),
          tableTtlMs: options.tableTtlMs,
          logger: options.logger,
          now: () => now,
        },
        false,
      );
      const outcomes = [...report.environments, ...report.tables];
      options.logger.info(
        {
          environmentsDropped: report.environments.filter(isDropped).length,
          tablesDropped: report.tables.filter(isDropped).length,
          failed: outcomes.filter((outcome) => outcome.status === 'failed').length,
          waitingTables: report.waitingTables.length,
        },
        'janitor pass finished',
      );
    },
  };
}

/** The tightest identifier limit of the dialects of the expired environments' models. */
async function identifierLimitOf(store: StateStore, now: Date): Promise<number | undefined> {
  const expired = expiredEnvironmentsOf(await listEnvironments(store), now);
  const ids = [
    ...new Set(expired.flatMap((environment) => Object.values(environment.snapshotIds))),
  ];
  if (ids.length === 0) return undefined;

  const snapshots = await findSnapshots(store, ids);
  const limits = [...snapshots.values()]
    .map((snapshot) => IDENTIFIER_LIMIT_BYTES[snapshot.model.dialect])
    .filter((limit) => limit !== undefined);
  return limits.length === 0 ? undefined : Math.min(...limits);
}

function isDropped(outcome: { readonly status: string }): boolean {
  return outcome.status === 'dropped';
}
