import { PROD } from '../../core/environments.js';
import { SluiceError } from '../../core/errors.js';
import { unitsBetween, wholeUnits } from '../../core/intervals/interval-unit.js';
import { expectedRange, intervalSettingsOf } from '../../core/intervals/model-intervals.js';
import { intersectRanges, subtractRanges, type TimeRange } from '../../core/intervals/range-set.js';
import type { IntervalUnit } from '../../core/model.js';
import type { Backfill, Plan, PlanOptions, Restatement } from '../../core/plan.js';
import { type Snapshot, upkeepOf, versionIdOf } from '../../core/snapshot.js';
import {
  type EnvironmentRecord,
  listEnvironments,
  readEnvironment,
} from '../../state/environment-store.js';
import { newRowId } from '../../state/row-id.js';
import {
  findSnapshots,
  readSnapshots,
  readSnapshotVersions,
  readVersions,
} from '../../state/snapshot-store.js';
import type { StateStore } from '../../state/state-store.js';
import { readProcessedRanges } from '../../state/version-intervals.js';
import { dueWorkOf } from '../runs/due-work.js';
import { compareWithEnvironment } from './plan-builder.js';

/** What a plan is made from. */
export type PlanRequest = {
  readonly environment: string;
  /** The project's snapshots, by model name, with their fingerprints' versions. */
  readonly project: ReadonlyMap<string, Snapshot>;
  /** The project's enabled models, parents first. */
  readonly order: readonly string[];
  readonly identifierLimitBytes: number | undefined;
  readonly options: PlanOptions;
  readonly now: Date;
};

/** A plan with the snapshots it needs, which the store does not hold until it is saved. */
export type PlanDraft = {
  readonly plan: Plan;
  /** The environment after the plan, by model name. */
  readonly snapshots: ReadonlyMap<string, Snapshot>;
  /** Forward-only snapshots whose tables may need new columns before their next evaluation. */
  readonly forwardOnlyIds: ReadonlySet<string>;
};

/**
 * Makes a plan: compares the project with the environment (a new environment starts from what
 * prod holds, so it builds nothing prod already has), works out the restatements asked for, and
 * what each version must build, from the intervals the state store says are processed.
 */
export async function makePlan(store: StateStore, request: PlanRequest): Promise<PlanDraft> {
  checkOptions(request);
  const environment = await readEnvironment(store, request.environment);
  const comparison = compareWithEnvironment({
    environment: request.environment,
    ...(await readBase(store, request, environment)),
    project: request.project,
    order: request.order,
    identifierLimitBytes: request.identifierLimitBytes,
    options: request.options,
  });
  const restatements = restatementsOf(comparison.snapshots, request);
  await refuseSharedRestatements(store, request.environment, restatements);
  const backfills = await backfillsOf(store, comparison.snapshots, restatements, request);

  const plan: Plan = {
    id: newRowId(request.now.getTime()),
    environment: request.environment,
    baseRevision: environment?.revision ?? 0,
    createdAt: request.now.toISOString(),
    options: request.options,
    snapshotIds: Object.fromEntries(
      [...comparison.snapshots].map(([name, snapshot]) => [name, snapshot.id]),
    ),
    changes: comparison.changes,
    backfills,
    restatements,
  };
  return { plan, snapshots: comparison.snapshots, forwardOnlyIds: comparison.forwardOnlyIds };
}

/**
 * What the comparison needs from the store: the environment's (or, for a new one, prod's)
 * snapshot ids and versions, the stored definitions of only those the project does not have, and
 * the stored snapshots among the project's new ids.
 */
async function readBase(
  store: StateStore,
  request: PlanRequest,
  environment: EnvironmentRecord | undefined,
) {
  const baseRecord =
    environment ?? (request.environment === PROD ? undefined : await readEnvironment(store, PROD));
  const baseIds = baseRecord?.snapshotIds ?? {};
  const differing = Object.entries(baseIds)
    .filter(([name, id]) => request.project.get(name)?.id !== id)
    .map(([, id]) => id);
  const base = byName(await readSnapshots(store, differing));
  const baseVersions = await readSnapshotVersions(store, Object.values(baseIds));

  // Snapshots the environment holds need no lookup: only new ids may have been built (and
  // given a version) by another environment.
  const heldIds = new Set(Object.values(baseIds));
  const newIds = [...request.project.values()]
    .map((snapshot) => snapshot.id)
    .filter((id) => !heldIds.has(id));
  const stored = await findSnapshots(store, newIds);
  return { baseIds, baseVersions, base, stored };
}

function checkOptions(request: PlanRequest): void {
  const isProd = request.environment === PROD;
  const { range, restateModels, isForwardOnly } = request.options;
  if (range !== undefined && isProd && restateModels.length === 0) {
    throw new SluiceError(
      'usage',
      '--start and --end limit the backfill of development environments only: prod must be ' +
        'complete. Plan prod without them (or with --restate-model, to restate that range only)',
    );
  }
  if (isForwardOnly && !isProd) {
    throw new SluiceError(
      'usage',
      '--forward-only changes keep and alter the existing tables, which outside prod may be ' +
        `prod's; plan '${request.environment}' without it (changes get tables of their own), ` +
        'and plan prod with --forward-only',
    );
  }
  for (const name of [...request.options.restateModels, ...request.options.selectModels]) {
    if (!request.project.has(name)) {
      throw new SluiceError(
        'model_not_found',
        `No model named '${name}' in the project; 'sluice dag' lists the models`,
      );
    }
  }
}

/** The restated models and their downstream models, each over the range asked or all of it. */
function restatementsOf(
  snapshots: ReadonlyMap<string, Snapshot>,
  request: PlanRequest,
): Restatement[] {
  const chosen = new Set(request.options.restateModels);
  if (chosen.size === 0) return [];
  for (const [name, snapshot] of snapshots) {
    const parents = [...snapshot.model.dependencies, ...snapshot.model.dependsOn];
    if (parents.some((parent) => chosen.has(parent))) chosen.add(name);
  }

  const restatements: Restatement[] = [];
  for (const [name, snapshot] of snapshots) {
    if (!chosen.has(name) || upkeepOf(snapshot.model.kind) !== 'intervals') continue;
    const settings = intervalSettingsOf(snapshot.model, request.now.getTime());
    const expected = expectedRange(settings, request.now.getTime());
    const whole = expected === undefined ? [] : [expected];
    const range = request.options.range && wholeUnits(request.options.range, settings.unit);
    const ranges = range === undefined ? whole : intersectRanges(whole, [range]);
    if (ranges.length > 0) {
      restatements.push({ modelName: name, versionId: versionIdOf(snapshot), ranges });
    }
  }
  return restatements;
}

/** What each version of the environment must build, restatements counted as not processed. */
async function backfillsOf(
  store: StateStore,
  snapshots: ReadonlyMap<string, Snapshot>,
  restatements: readonly Restatement[],
  request: PlanRequest,
): Promise<Backfill[]> {
  const versionIds = [...new Set([...snapshots.values()].map(versionIdOf))];
  const versions = await readVersions(store, versionIds);
  const processed = await readProcessedRanges(store, versionIds);
  const restated = new Map(restatements.map((entry) => [entry.versionId, entry.ranges]));
  const nowMs = request.now.getTime();

  const backfills: Backfill[] = [];
  for (const name of request.order) {
    const snapshot = snapshots.get(name);
    if (snapshot === undefined) continue;
    const versionId = versionIdOf(snapshot);
    const done = subtractRanges(processed.get(versionId) ?? [], restated.get(versionId) ?? []);
    const isTableCreated = versions.get(versionId)?.tableCreatedAt !== undefined;
    const due = dueWorkOf(snapshot, { isTableCreated, processed: done }, nowMs);
    const ranges = limited(due.missing, due.settings?.unit, request);
    if (!due.needsCreate && ranges.length === 0) continue;
    const unit = due.settings?.unit;
    backfills.push({
      modelName: name,
      snapshotId: snapshot.id,
      versionId,
      needsCreate: due.needsCreate,
      ranges,
      intervals:
        unit === undefined
          ? 0
          : ranges.reduce((sum, [start, end]) => sum + unitsBetween(start, end, unit), 0),
    });
  }
  return backfills;
}

/**
 * What a plan builds of the missing ranges: nothing with --skip-backfill; outside prod, only what
 * lies in --start/--end, widened to whole intervals of the model's unit.
 */
function limited(
  missing: readonly TimeRange[],
  unit: IntervalUnit | undefined,
  request: PlanRequest,
): TimeRange[] {
  const { range, shouldSkipBackfill } = request.options;
  if (shouldSkipBackfill) return [];
  if (range === undefined || unit === undefined || request.environment === PROD)
    return [...missing];
  return intersectRanges(missing, [wholeUnits(range, unit)]);
}

/**
 * Refuses to restate, outside prod, a version another environment uses: its rows would change
 * under that environment's views. A change to the model gives it a version of its own first.
 */
async function refuseSharedRestatements(
  store: StateStore,
  environment: string,
  restatements: readonly Restatement[],
): Promise<void> {
  if (environment === PROD || restatements.length === 0) return;
  const others = (await listEnvironments(store)).filter((other) => other.name !== environment);
  for (const other of others) {
    const versions = await readSnapshotVersions(store, Object.values(other.snapshotIds));
    const used = new Set(
      Object.entries(other.snapshotIds).map(([name, id]) => `${name}/${versions.get(id) ?? ''}`),
    );
    const shared = restatements.find((entry) => used.has(entry.versionId));
    if (shared === undefined) continue;
    throw new SluiceError(
      'usage',
      `Restating '${shared.modelName}' in '${environment}' would change the rows '${other.name}' ` +
        `shows: both use the same version of it. Restate it in '${other.name}', or change the ` +
        `model in '${environment}' first so that it gets a table of its own`,
    );
  }
}

function byName(snapshots: ReadonlyMap<string, Snapshot>): Map<string, Snapshot> {
  return new Map([...snapshots.values()].map((snapshot) => [snapshot.name, snapshot]));
}
