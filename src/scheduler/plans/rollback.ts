import { SluiceError } from '../../core/errors.js';
import { readEnvironment, recordPromotion } from '../../state/environment-store.js';
import { readSnapshots } from '../../state/snapshot-store.js';
import type { ModelResult } from '../runs/run-coordinator.js';
import { buildRunGraph } from '../runs/run-graph.js';
import { snapshotOrder } from '../runs/snapshot-order.js';
import { type ApplyContext, promoteTaskOf, takePlanLease, UNKNOWN_ACTOR } from './apply-plan.js';

/** How a rollback ended: the environment's new revision and the run that caught it up. */
export type RollbackResult = {
  readonly revision: number;
  readonly restoredModels: number;
  readonly models: readonly ModelResult[];
};

/**
 * Points an environment back at the snapshots it held before its last promotion, without
 * recomputing them: one promote task swaps the views, then the promotion is recorded (the
 * snapshots rolled back from become the ones a second rollback returns to). Then the intervals
 * those versions missed meanwhile are evaluated, as a run of the environment would.
 */
export async function rollbackEnvironment(
  environment: string,
  context: Omit<ApplyContext, 'order'>,
): Promise<RollbackResult> {
  const lease = await takePlanLease(context, environment, `rollback-${environment}`);
  try {
    const current = await readEnvironment(context.store, environment);
    const previousIds = current?.previousSnapshotIds;
    if (current === undefined || previousIds === undefined) {
      throw new SluiceError(
        'usage',
        `Environment '${environment}' has no earlier versions to roll back to: ` +
          `${current === undefined ? 'it does not exist' : 'it was promoted only once'}`,
      );
    }

    const stored = await readSnapshots(context.store, Object.values(previousIds));
    const snapshots = new Map([...stored.values()].map((snapshot) => [snapshot.name, snapshot]));
    const outcome = await context.executor.runPromotion(
      promoteTaskOf(environment, snapshots, current, context),
    );
    if (outcome.status === 'failed') {
      throw new SluiceError(
        'engine_error',
        `Rolling back environment '${environment}' failed: ${outcome.error.message}. Its views ` +
          'are as they were',
      );
    }
    const revision = await recordPromotion(context.store, {
      name: environment,
      baseRevision: current.revision,
      snapshotIds: previousIds,
      previousSnapshotIds: current.snapshotIds,
      planId: undefined,
      ttlMs: context.ttlMs,
      now: (context.now ?? (() => new Date()))(),
      audit: (revision) => ({
        actor: context.actor ?? UNKNOWN_ACTOR,
        action: 'environment.rolled_back',
        subject: environment,
        details: { revision, baseRevision: current.revision, models: snapshots.size },
      }),
    });

    const graph = buildRunGraph(snapshots, snapshotOrder(snapshots), context.scope);
    const models = await context.executor.runGraph(graph, { pool: 'run' });
    return { revision, restoredModels: snapshots.size, models };
  } finally {
    await lease.release();
  }
}
