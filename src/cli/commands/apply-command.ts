import { SluiceError } from '../../core/errors.js';
import type { Plan } from '../../core/plan.js';
import { loadProject } from '../../project/project-loader.js';
import { forwardOnlyIdsOf } from '../../scheduler/plans/plan-service.js';
import { snapshotOrder } from '../../scheduler/runs/snapshot-order.js';
import { readPlan } from '../../state/plan-store.js';
import { readSnapshots } from '../../state/snapshot-store.js';
import { SchedulerApiClient } from '../api-client.js';
import { remoteSettingsOf } from '../client-access.js';
import type { CommandContext } from '../output.js';
import { applyFromCli, applyRemotely } from '../plan-apply.js';
import { projectVersions } from '../project-run-setup.js';
import { readRemotePlan } from '../remote-runs.js';
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
  const remote = remoteSettingsOf(process.env);
  if (remote !== undefined) {
    const api = new SchedulerApiClient(remote);
    const plan = await readRemotePlan(api, planId);
    const revision = await applyRemotely(context, api, plan, { isQuiet: false });
    writeApplied(context, plan, revision);
    return;
  }

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
    writeApplied(context, plan, revision);
  });
}

function writeApplied(context: CommandContext, plan: Plan, revision: number): void {
  context.output.stdout.write(
    `Applied plan ${plan.id}: environment '${plan.environment}' is at revision ${revision}.\n`,
  );
}
