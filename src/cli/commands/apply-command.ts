import { SluiceError } from '../../core/errors.js';
import type { Plan } from '../../core/plan.js';
import { loadProject } from '../../project/project-loader.js';
import { snapshotOrder } from '../../scheduler/runs/snapshot-order.js';
import { readPlan } from '../../state/plan-store.js';
import { readSnapshots } from '../../state/snapshot-store.js';
import type { CommandContext } from '../output.js';
import { applyFromCli } from '../plan-apply.js';
import { projectVersions } from '../project-run-setup.js';
import type { StateCliOptions } from '../state-context.js';
import { withStore } from '../with-state.js';

/**
 * `sluice apply PLAN`: applies a stored plan, as `sluice plan` would after its question. A plan
 * made against an environment that changed since is refused; a failed plan may be applied again
 * and resumes where it stopped.
 */
export async function applyCommand(
  context: CommandContext,
  planId: string,
  options: StateCliOptions,
): Promise<void> {
  const project = await loadProject(context.projectDir, { logger: context.logger });
  const { gateway } = await projectVersions(project);

  await withStore(context, options, true, async (store) => {
    const stored = await readPlan(store, planId);
    if (stored.status === 'applied') {
      throw new SluiceError(
        'usage',
        `Plan ${planId} was applied already (${stored.finishedAt ?? 'earlier'}); ` +
          "run 'sluice plan' for a new one",
      );
    }
    const plan = stored.plan;
    const byId = await readSnapshots(store, Object.values(plan.snapshotIds));
    const snapshots = new Map([...byId.values()].map((snapshot) => [snapshot.name, snapshot]));

    const revision = await applyFromCli(context, {
      project,
      gateway,
      store,
      plan,
      snapshots,
      forwardOnlyIds: forwardOnlyIdsOf(plan),
      order: snapshotOrder(snapshots),
      isQuiet: false,
    });
    context.output.stdout.write(
      `Applied plan ${plan.id}: environment '${plan.environment}' is at revision ${revision}.\n`,
    );
  });
}

function forwardOnlyIdsOf(plan: Plan): Set<string> {
  return new Set(
    plan.changes
      .filter((change) => change.category === 'forward_only' && change.after !== undefined)
      .map((change) => change.after as string),
  );
}
