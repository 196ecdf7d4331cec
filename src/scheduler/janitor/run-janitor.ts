import { SluiceError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { CleanupTask, DropTarget, TaskOutcome, TaskPool } from '../../protocol/task.js';
import { isExpired, listEnvironments, readEnvironment } from '../../state/environment-store.js';
import {
  clearVersionsUnused,
  deleteEnvironment,
  markVersionsUnused,
  recordTableDropped,
} from '../../state/janitor-store.js';
import { newRowId } from '../../state/row-id.js';
import type { StateStore } from '../../state/state-store.js';
import { takePlanLease } from '../plans/apply-plan.js';
import {
  type EnvironmentDrop,
  expiredEnvironmentsOf,
  planEnvironmentDrops,
  planTableDrops,
  type TableDrop,
} from './plan-janitor.js';

/**
 * Applies the janitor's plan through cleanup tasks: first each expired environment (under its
 * plan lease, so no plan recreates it mid-way) loses its views and then its row; then the unused
 * marks are updated against the environments left, and each table unused for at least the TTL
 * is dropped. The state records only what a cleanup reports done: a failed cleanup leaves the
 * environment's row, or the version's table, recorded as they were, for the next pass.
 *
 * Each environment and each table is its own task, so a failure is tied to what it names.
 *
 * A plan that chooses to reuse a version in the moment between this pass selecting its table and
 * dropping it would find the table gone; the table TTL (the version unused that long) makes this
 * unlikely, and holding each version's lease while dropping would close it.
 */

/** What the janitor needs: the store, how cleanup tasks run, and the project's settings. */
export type JanitorContext = {
  readonly store: StateStore;
  /** Runs one cleanup task on an Executor and reports how it ended. */
  readonly runCleanup: (task: CleanupTask) => Promise<TaskOutcome>;
  /** The gateway engine's identifier limit, which environments' view names are fitted to. */
  readonly identifierLimitBytes: number | undefined;
  /** How long a table stays unused before it is dropped. */
  readonly tableTtlMs: number;
  readonly logger: Logger;
  readonly pool?: TaskPool;
  readonly now?: () => Date;
};

/** How one drop went: done, only planned (dry run), failed, or skipped and why. */
export type DropStatus = 'dropped' | 'planned' | 'failed' | 'skipped';

/** An expired environment and what became of it. */
export type EnvironmentOutcome = EnvironmentDrop & {
  readonly status: DropStatus;
  readonly reason?: string;
};

/** An unused table and what became of it. */
export type TableOutcome = TableDrop & { readonly status: DropStatus; readonly reason?: string };

/** What a janitor pass did, or with `isDryRun` would do. */
export type JanitorReport = {
  readonly isDryRun: boolean;
  readonly environments: readonly EnvironmentOutcome[];
  readonly tables: readonly TableOutcome[];
  /** Unused tables that have not been unused for the TTL yet. */
  readonly waitingTables: readonly TableDrop[];
  readonly tableTtlMs: number;
};

/** Plans and, unless `isDryRun`, applies one janitor pass; a dry run writes nothing. */
export async function runJanitor(
  context: JanitorContext,
  isDryRun: boolean,
): Promise<JanitorReport> {
  const now = (context.now ?? (() => new Date()))();
  const environmentDrops = await planEnvironmentDrops(
    context.store,
    now,
    context.identifierLimitBytes,
  );
  const environments = isDryRun
    ? environmentDrops.map((drop) => ({ ...drop, status: 'planned' as const }))
    : await dropEnvironments(environmentDrops, context, now);

  const remaining = await listEnvironments(context.store);
  const holding = isDryRun
    ? remaining.filter((environment) => expiredEnvironmentsOf([environment], now).length === 0)
    : remaining;
  const plan = await planTableDrops(context.store, holding, now, context.tableTtlMs);
  let tables: Awaited<ReturnType<typeof dropTables>>;
  if (isDryRun) {
    tables = plan.drops.map((drop) => ({ ...drop, status: 'planned' as const }));
  } else {
    await markVersionsUnused(context.store, plan.newlyUnusedIds, now);
    await clearVersionsUnused(context.store, plan.usedAgainIds);
    tables = await dropTables(plan.drops, context);
  }
  return {
    isDryRun,
    environments,
    tables,
    waitingTables: plan.waiting,
    tableTtlMs: context.tableTtlMs,
  };
}

async function dropEnvironments(
  drops: readonly EnvironmentDrop[],
  context: JanitorContext,
  now: Date,
): Promise<EnvironmentOutcome[]> {
  const outcomes: EnvironmentOutcome[] = [];
  for (const drop of drops) outcomes.push(await dropEnvironment(drop, context, now));
  return outcomes;
}

/** Drops one expired environment's views and row, holding its plan lease. */
async function dropEnvironment(
  drop: EnvironmentDrop,
  context: JanitorContext,
  now: Date,
): Promise<EnvironmentOutcome> {
  const lease = await leaseOrReason(context, drop.name);
  if (typeof lease === 'string') return { ...drop, status: 'skipped', reason: lease };
  try {
    const current = await readEnvironment(context.store, drop.name);
    if (current?.revision !== drop.revision || !isExpired(current, now)) {
      return { ...drop, status: 'skipped', reason: 'it was used again meanwhile' };
    }

    const targets = drop.views.map((table) => ({ table, isView: true }));
    const outcome = await context.runCleanup(cleanupTaskOf(targets, context, drop.name));
    if (outcome.status === 'failed') {
      return { ...drop, status: 'failed', reason: outcome.error.message };
    }

    await deleteEnvironment(context.store, drop.name, drop.revision);
    context.logger.info(
      { environment: drop.name, views: drop.views.length },
      'environment removed',
    );
    return { ...drop, status: 'dropped' };
  } finally {
    await lease.release();
  }
}

async function leaseOrReason(context: JanitorContext, environment: string) {
  try {
    return await takePlanLease(context, environment, `janitor-${newRowId()}`);
  } catch (error) {
    if (error instanceof SluiceError && error.code === 'plan_locked') return error.message;
    throw error;
  }
}

/** Drops the due tables one task each, views first (a view may select from one of the tables). */
async function dropTables(
  drops: readonly TableDrop[],
  context: JanitorContext,
): Promise<TableOutcome[]> {
  const ordered = [...drops.filter((drop) => drop.isView), ...drops.filter((drop) => !drop.isView)];
  const outcomes: TableOutcome[] = [];
  for (const drop of ordered) {
    const target = { table: drop.table, isView: drop.isView };
    const outcome = await context.runCleanup(cleanupTaskOf([target], context, drop.versionId));
    if (outcome.status === 'failed') {
      outcomes.push({ ...drop, status: 'failed', reason: outcome.error.message });
      continue;
    }
    await recordTableDropped(context.store, drop.versionId);
    context.logger.info({ version: drop.versionId }, 'unused table dropped');
    outcomes.push({ ...drop, status: 'dropped' });
  }
  return outcomes;
}

function cleanupTaskOf(
  drops: readonly DropTarget[],
  context: JanitorContext,
  subject: string,
): CleanupTask {
  return {
    id: `${newRowId()}-cleanup`,
    runId: `janitor:${subject}`,
    kind: 'cleanup',
    pool: context.pool ?? 'run',
    executionTimeMs: Date.now(),
    drops,
  };
}
