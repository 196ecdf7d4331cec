import { PROD, viewOf } from '../../core/environments.js';
import { SluiceError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { Plan } from '../../core/plan.js';
import { type Snapshot, upkeepOf } from '../../core/snapshot.js';
import type { TableName } from '../../core/table-resolver.js';
import type { PromoteTask, TaskOutcome, TaskPool } from '../../protocol/task.js';
import {
  type EnvironmentRecord,
  readEnvironment,
  recordPromotion,
} from '../../state/environment-store.js';
import { hitFailpoint } from '../../state/failpoint.js';
import { setPlanStatus } from '../../state/plan-store.js';
import { newRowId } from '../../state/row-id.js';
import type { StateStore } from '../../state/state-store.js';
import { removeProcessedRanges } from '../../state/version-intervals.js';
import type { ModelResult, RunOptions } from '../runs/run-coordinator.js';
import { buildRunGraph, type ProjectScope, type RunNode } from '../runs/run-graph.js';
import { type HeldLease, leaseOwnerOf, tryTakeLease } from '../runs/version-lease.js';

/**
 * Applies a plan: under the environment's plan lease, checks that the environment is still at
 * the plan's base, clears restated intervals, creates and backfills through a run of the
 * environment's new snapshots, and only when every model succeeded runs one promote task that
 * points the views at the new tables, then records the promotion (checking the base revision
 * again). A failure or an interruption before promotion leaves every view where it was, pointing
 * at complete tables; the intervals already built stay recorded, so planning again resumes.
 */

/** How plan work reaches Executors: a run of a graph, and one promote task. */
export type PlanExecutor = {
  runGraph(
    graph: ReadonlyMap<string, RunNode>,
    options: Pick<RunOptions, 'pool' | 'limitRange' | 'shouldSkipBackfill' | 'forwardOnlyIds'>,
  ): Promise<readonly ModelResult[]>;
  runPromotion(task: PromoteTask): Promise<TaskOutcome>;
};

/** What applying needs besides the plan. */
export type ApplyContext = {
  readonly store: StateStore;
  readonly executor: PlanExecutor;
  readonly scope: ProjectScope;
  /** Project model names, parents first. */
  readonly order: readonly string[];
  readonly identifierLimitBytes: number | undefined;
  /** How long the environment lives unused; undefined: forever (prod). */
  readonly ttlMs: number | undefined;
  readonly logger: Logger;
  readonly now?: () => Date;
  /** Who applies the plan, as the audit log records it (`local:<user>`, or an OAuth client). */
  readonly actor?: string;
};

/** How an apply ended. */
export type ApplyResult = {
  readonly isPromoted: boolean;
  readonly models: readonly ModelResult[];
  readonly revision: number | undefined;
};

/** The audit log's actor when the caller did not say who applies the plan. */
export const UNKNOWN_ACTOR = 'unknown';

/** How long a plan lease lasts without renewal; a live apply renews it in the background. */
const PLAN_LEASE_TTL_MS = 30_000;

/** Applies a plan whose snapshots are stored; see the file's comment for the steps. */
export async function applyPlan(
  plan: Plan,
  snapshots: ReadonlyMap<string, Snapshot>,
  forwardOnlyIds: ReadonlySet<string>,
  context: ApplyContext,
): Promise<ApplyResult> {
  const lease = await takePlanLease(context, plan.environment, plan.id);
  try {
    const current = await readEnvironment(context.store, plan.environment);
    checkBase(plan, current);
    await setPlanStatus(context.store, plan.id, 'applying');
    const result = await build(plan, snapshots, forwardOnlyIds, current, context);
    await setPlanStatus(context.store, plan.id, result.isPromoted ? 'applied' : 'failed');
    return result;
  } catch (error) {
    await setPlanStatus(context.store, plan.id, 'failed').catch(() => undefined);
    throw error;
  } finally {
    await lease.release();
  }
}

async function build(
  plan: Plan,
  snapshots: ReadonlyMap<string, Snapshot>,
  forwardOnlyIds: ReadonlySet<string>,
  current: EnvironmentRecord | undefined,
  context: ApplyContext,
): Promise<ApplyResult> {
  for (const restatement of plan.restatements) {
    await removeProcessedRanges(context.store, restatement.versionId, restatement.ranges);
  }
  const graph = buildRunGraph(snapshots, context.order, context.scope);
  const models = await context.executor.runGraph(graph, {
    pool: 'apply',
    // Prod is always built whole: there --start/--end only bound a restatement.
    ...(plan.options.range === undefined || plan.environment === PROD
      ? {}
      : { limitRange: plan.options.range }),
    shouldSkipBackfill: plan.options.shouldSkipBackfill,
    forwardOnlyIds,
  });
  if (models.some((model) => model.outcome === 'failed' || model.outcome === 'skipped')) {
    return { isPromoted: false, models, revision: undefined };
  }

  const outcome = await context.executor.runPromotion(
    promoteTaskOf(plan.environment, snapshots, current, context),
  );
  if (outcome.status === 'failed') {
    throw new SluiceError(
      'engine_error',
      `Promoting environment '${plan.environment}' failed: ${outcome.error.message}. Its views ` +
        'are as they were; fix the cause and apply the plan again',
    );
  }
  // Killed here, the views point at the new, complete tables while the state still names the old
  // snapshots; the next plan shows the same changes, builds nothing, and promotes again.
  hitFailpoint('apply-after-promote');
  const revision = await recordPromotion(context.store, {
    name: plan.environment,
    baseRevision: plan.baseRevision,
    snapshotIds: plan.snapshotIds,
    planId: plan.id,
    ttlMs: context.ttlMs,
    now: (context.now ?? (() => new Date()))(),
    audit: (revision) => ({
      actor: context.actor ?? UNKNOWN_ACTOR,
      action: 'plan.applied',
      subject: plan.environment,
      details: {
        planId: plan.id,
        revision,
        baseRevision: plan.baseRevision,
        models: snapshots.size,
        changes: plan.changes.length,
      },
    }),
  });
  return { isPromoted: true, models, revision };
}

/**
 * The task that points an environment's views at its snapshots' tables, and drops the views of
 * models it held before and no longer has.
 */
export function promoteTaskOf(
  environment: string,
  snapshots: ReadonlyMap<string, Snapshot>,
  current: EnvironmentRecord | undefined,
  context: Pick<ApplyContext, 'identifierLimitBytes'>,
): PromoteTask {
  const limit = context.identifierLimitBytes;
  const views = [...snapshots.values()]
    .filter((snapshot) => upkeepOf(snapshot.model.kind) !== 'none' && snapshot.table !== undefined)
    .map((snapshot) => ({
      view: viewOf(snapshot.name, environment, limit),
      table: snapshot.table as TableName,
    }));
  const dropViews = Object.keys(current?.snapshotIds ?? {})
    .filter((name) => !snapshots.has(name))
    .map((name) => viewOf(name, environment, limit));
  return {
    id: `${newRowId()}-promote`,
    runId: environment,
    kind: 'promote',
    pool: 'apply' satisfies TaskPool,
    environment,
    executionTimeMs: Date.now(),
    views,
    dropViews,
  };
}

/**
 * Only one plan (or rollback) at a time per environment: a second one is refused, naming who
 * holds the environment.
 */
export async function takePlanLease(
  context: Pick<ApplyContext, 'store' | 'logger'>,
  environment: string,
  ownerId: string,
): Promise<HeldLease> {
  const settings = { owner: leaseOwnerOf(ownerId), ttlMs: PLAN_LEASE_TTL_MS, pollMs: 0 };
  const key = `plan:${environment}`;
  const attempt = await tryTakeLease(context.store, key, settings, context.logger);
  if (attempt.lease !== undefined) return attempt.lease;
  const by = attempt.holder === undefined ? '' : ` (by ${attempt.holder.owner})`;
  throw new SluiceError(
    'plan_locked',
    `Another plan is being applied to environment '${environment}'${by}; wait for it to ` +
      'finish, then plan again',
  );
}

function checkBase(plan: Plan, current: EnvironmentRecord | undefined): void {
  const revision = current?.revision ?? 0;
  if (revision === plan.baseRevision) return;
  const by = current?.planId === undefined ? '' : ` by plan ${current.planId}`;
  throw new SluiceError(
    'plan_stale',
    `Environment '${plan.environment}' changed since this plan was made (revision ` +
      `${plan.baseRevision} then, ${revision} now${by}); ` +
      `run 'sluice plan ${plan.environment}' again`,
  );
}
