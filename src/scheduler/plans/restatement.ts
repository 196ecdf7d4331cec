import { SluiceError } from '../../core/errors.js';
import type { TimeRange } from '../../core/intervals/range-set.js';
import type { Logger } from '../../core/logger.js';
import { hasWork } from '../../core/plan.js';
import { readEnvironment } from '../../state/environment-store.js';
import type { StateStore } from '../../state/state-store.js';
import { environmentTtlMsOf, environmentWork } from '../runs/environment-runs.js';
import type { RunService } from '../runs/run-service.js';
import { snapshotOrder } from '../runs/snapshot-order.js';
import { startPlanApply, submitPlan } from './plan-service.js';

/**
 * Restating models of an environment over a range, through the Scheduler: a plan of the
 * environment's own snapshots (nothing in the project changes) that clears the models' processed
 * intervals in the range, and those of their downstream models, then builds them again and
 * promotes, as `sluice plan --restate-model` does for a project.
 */

/** What to restate, where, and who asks. */
export type RestatementRequest = {
  readonly environment: string;
  readonly modelNames: readonly string[];
  readonly range: TimeRange;
  readonly actor: string;
  readonly logger: Logger;
};

/** Makes and starts applying the restatement plan; the run's id. */
export async function startRestatement(
  runs: RunService,
  store: StateStore,
  request: RestatementRequest,
): Promise<string> {
  const { snapshots, target } = await environmentWork(store, request.environment);
  const record = await readEnvironment(store, request.environment);
  const ttlMs = record === undefined ? undefined : environmentTtlMsOf(record);
  const plan = await submitPlan(store, {
    environment: request.environment,
    snapshots,
    order: snapshotOrder(snapshots),
    options: {
      range: request.range,
      isForwardOnly: false,
      restateModels: request.modelNames,
      shouldSkipBackfill: false,
      selectModels: [],
    },
    target: { ...target, environmentTtlMs: ttlMs },
    now: new Date(),
  });
  if (!hasWork(plan) || plan.restatements.length === 0) {
    throw new SluiceError(
      'usage',
      `Nothing to restate in '${request.environment}' for that range: the models have no ` +
        'processed intervals there',
    );
  }
  return startPlanApply(runs, store, {
    planId: plan.id,
    actor: request.actor,
    logger: request.logger,
  });
}
