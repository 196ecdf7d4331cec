import { PROD } from '../../core/environments.js';
import { SluiceError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { IDENTIFIER_LIMIT_BYTES } from '../../core/physical-table.js';
import { hasWork, type Plan, type PlanOptions, type PlanTarget } from '../../core/plan.js';
import type { Snapshot } from '../../core/snapshot.js';
import { setEnvironmentTarget } from '../../state/environment-store.js';
import { readPlan, savePlan } from '../../state/plan-store.js';
import { readSnapshots, saveSnapshots } from '../../state/snapshot-store.js';
import type { StateStore } from '../../state/state-store.js';
import type { RunService } from '../runs/run-service.js';
import { snapshotOrder } from '../runs/snapshot-order.js';
import { applyPlan, type PlanExecutor } from './apply-plan.js';
import { makePlan, type PlanDraft } from './make-plan.js';

/**
 * Plans made and applied by the Scheduler: the CLI sends the project's snapshots and where its
 * work runs (never gateway settings); the Scheduler compares them with its state, stores the
 * plan, and applies it as a run whose tasks Executors pull.
 */

/** A plan asked for through the API. */
export type PlanSubmission = {
  readonly environment: string;
  /** The project's snapshots, by model name. */
  readonly snapshots: ReadonlyMap<string, Snapshot>;
  /** The project's enabled models, parents first. */
  readonly order: readonly string[];
  readonly options: PlanOptions;
  readonly target: PlanTarget;
  readonly now: Date;
};

/** Makes the plan and, when it has work, stores it with its snapshots. */
export async function submitPlan(store: StateStore, submission: PlanSubmission): Promise<Plan> {
  const draft: PlanDraft = await makePlan(store, {
    environment: submission.environment,
    project: submission.snapshots,
    order: submission.order,
    identifierLimitBytes: IDENTIFIER_LIMIT_BYTES[submission.target.engine],
    options: submission.options,
    now: submission.now,
  });
  const target = { ...submission.target, ...ttlOf(submission) };
  const plan: Plan = { ...draft.plan, target };
  if (!hasWork(plan)) return plan;
  await saveSnapshots(store, [...draft.snapshots.values()]);
  await savePlan(store, plan);
  return plan;
}

/**
 * Starts applying a stored plan as a run; resolves with the run's id once it is recorded. A plan
 * that was applied already, or that names no target, is refused at once; a stale plan or one
 * whose environment is being changed by another fails the run, which says why.
 */
export async function startPlanApply(
  runs: RunService,
  store: StateStore,
  request: { readonly planId: string; readonly actor: string; readonly logger: Logger },
): Promise<string> {
  const stored = await readPlan(store, request.planId);
  if (stored.status === 'applied') {
    throw new SluiceError(
      'plan_applied',
      `Plan ${stored.plan.id} was applied already; run 'sluice plan' for a new one`,
    );
  }
  const plan = stored.plan;
  const target = requireTarget(plan);
  const { runId } = await runs.start(
    {
      kind: 'apply',
      environment: plan.environment,
      pool: 'apply',
      requestedBy: request.actor,
      gateway: target.gateway,
      planId: plan.id,
    },
    async (run) => {
      const executor: PlanExecutor = {
        runGraph: (graph, options) => run.runGraph({ graph, nowMs: Date.now(), ...options }),
        runPromotion: (task) => run.runTask(task),
      };
      const result = await applyStoredPlan(store, plan, target, executor, request);
      return {
        status: result.isPromoted ? 'succeeded' : 'failed',
        summary: {
          isPromoted: result.isPromoted,
          revision: result.revision,
          models: result.models,
        },
      };
    },
  );
  return runId;
}

async function applyStoredPlan(
  store: StateStore,
  plan: Plan,
  target: PlanTarget,
  executor: PlanExecutor,
  request: { readonly actor: string; readonly logger: Logger },
) {
  const byId = await readSnapshots(store, Object.values(plan.snapshotIds));
  const snapshots = new Map([...byId.values()].map((snapshot) => [snapshot.name, snapshot]));
  const result = await applyPlan(plan, snapshots, forwardOnlyIdsOf(plan), {
    store,
    executor,
    scope: { projectName: target.projectName, gateway: target.gateway },
    order: snapshotOrder(snapshots),
    identifierLimitBytes: IDENTIFIER_LIMIT_BYTES[target.engine],
    ttlMs: plan.environment === PROD ? undefined : target.environmentTtlMs,
    logger: request.logger,
    actor: request.actor,
  });
  if (result.isPromoted) await setEnvironmentTarget(store, plan.environment, target);
  return result;
}

/** The snapshots of a plan's forward-only changes. */
export function forwardOnlyIdsOf(plan: Plan): Set<string> {
  return new Set(
    plan.changes
      .filter((change) => change.category === 'forward_only' && change.after !== undefined)
      .map((change) => change.after as string),
  );
}

function requireTarget(plan: Plan): PlanTarget {
  if (plan.target !== undefined) return plan.target;
  throw new SluiceError(
    'usage',
    `Plan ${plan.id} was made by the CLI on its own, and does not say which gateway its work ` +
      `runs on; make it through the Scheduler ('sluice plan ${plan.environment}' with SLUICE_URL ` +
      'set) and apply that one',
  );
}

function ttlOf(submission: PlanSubmission): Pick<PlanTarget, 'environmentTtlMs'> {
  return {
    environmentTtlMs:
      submission.environment === PROD ? undefined : submission.target.environmentTtlMs,
  };
}
