import type { CadenceRunRequest } from './cadence-run.js';
import { scheduledModels, tickedModels } from './cadence-schedule.js';
import type { CadenceTarget } from './cadence-targets.js';

/**
 * What one pass of the cadence loop asks for: per environment, one request for the models whose
 * cron ticked since the last pass, and for the models that entered the cadence since then. A
 * model enters it when the loop starts (on election: the catch-up after a takeover), when its
 * environment opts in or is resumed, when it is resumed, and when a promotion adds it; it is
 * asked for at once rather than at its next tick. Paused models and their downstream models are
 * left out. The run's clock is the latest tick, or the pass's time when a model entered.
 */

/** The models each environment had in the cadence after a pass, by environment name. */
export type CadenceMembers = ReadonlyMap<string, ReadonlySet<string>>;

/** The requests of a pass over `(afterMs, atMs]`, and the members to compare the next with. */
export function passRequests(
  targets: readonly CadenceTarget[],
  previous: CadenceMembers,
  window: { readonly afterMs: number; readonly atMs: number },
): { readonly requests: CadenceRunRequest[]; readonly members: CadenceMembers } {
  const requests: CadenceRunRequest[] = [];
  const members = new Map<string, ReadonlySet<string>>();

  for (const { schedule, leftOut } of targets) {
    const environment = schedule.environment;
    const eligible = new Set(scheduledModels(schedule).filter((name) => !leftOut.has(name)));
    members.set(environment, eligible);

    const before = previous.get(environment);
    const entering = [...eligible].filter((name) => before?.has(name) !== true);
    const ticked = tickedModels(schedule, eligible, window);
    const modelNames = [...new Set([...entering, ...ticked.modelNames])].sort();
    const nowMs = entering.length > 0 ? window.atMs : ticked.latestTickMs;
    if (modelNames.length > 0 && nowMs !== undefined) {
      requests.push({ environment, modelNames, nowMs });
    }
  }
  return { requests, members };
}
