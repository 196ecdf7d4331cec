import { PROD } from '../../core/environments.js';
import { SluiceError } from '../../core/errors.js';
import { unitsBetween } from '../../core/intervals/interval-unit.js';
import { expectedRange, intervalSettingsOf } from '../../core/intervals/model-intervals.js';
import { intersectRanges, subtractRanges, type TimeRange } from '../../core/intervals/range-set.js';
import type { Backfill, Plan, PlanOptions, Restatement } from '../../core/plan.js';
import { type Snapshot, upkeepOf, versionIdOf } from '../../core/snapshot.js';
import { type EnvironmentRecord, readEnvironment } from '../../state/environment-store.js';
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
    ...(await readBase(store, request, environment)),
    project: request.project,
    order: request.order,
    identifierLimitBytes: request.identifierLimitBytes,
    options: request.options,
  });
  const restatements = restatementsOf(comparison.snapshots, request);
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
  if (request.options.range !== undefined && request.environment === PROD) {
    throw new SluiceError(
      'usage',
      '--start and --end limit the backfill of development environments only: prod must be ' +
        'complete. Plan prod without them, or plan a development environment',
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
    const range = request.options.range;
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
    const ranges = limited(due.missing, request.options);
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

function limited(missing: readonly TimeRange[], options: PlanOptions): TimeRange[] {
  if (options.shouldSkipBackfill) return [];
  return options.range === undefined ? [...missing] : intersectRanges(missing, [options.range]);
}

function byName(snapshots: ReadonlyMap<string, Snapshot>): Map<string, Snapshot> {
  return new Map([...snapshots.values()].map((snapshot) => [snapshot.name, snapshot]));
}
