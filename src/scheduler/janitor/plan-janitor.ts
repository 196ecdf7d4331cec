import { PROD, viewOf } from '../../core/environments.js';
import { upkeepOf } from '../../core/snapshot.js';
import type { TableName } from '../../core/table-resolver.js';
import {
  type EnvironmentRecord,
  isExpired,
  listEnvironments,
} from '../../state/environment-store.js';
import {
  type BuiltVersion,
  readBuiltVersions,
  readSnapshotIdsOfVersions,
  readVersionIdsOfSnapshots,
} from '../../state/janitor-store.js';
import { findSnapshots } from '../../state/snapshot-store.js';
import type { StateStore } from '../../state/state-store.js';

/**
 * What the janitor would drop, computed from the state store. Live environments are the ones
 * not expired (prod never expires); live versions are those of every snapshot a live environment
 * holds now or keeps for rollback (`previousSnapshotIds`). An expired environment loses its
 * views and its row. A built version that is not live is unused: the store remembers since when,
 * and its table is dropped once that is at least the table TTL ago. The selection itself is pure
 * (`liveVersionIdsOf`, `selectUnusedTables`); the rest reads the store.
 */

/** An expired environment and the views of its virtual layer. */
export type EnvironmentDrop = {
  readonly name: string;
  readonly revision: number;
  readonly expiresAt: string;
  readonly views: readonly TableName[];
};

/** A version's physical table (a view for a VIEW model) that no live environment uses. */
export type TableDrop = {
  readonly versionId: string;
  readonly modelName: string;
  readonly version: string;
  readonly table: TableName;
  readonly isView: boolean;
  /** When it was first found unused; now for a version found unused in this pass. */
  readonly unusedSinceMs: number;
};

/** The unused tables: which to drop, which wait for the TTL, and the marks to write. */
export type TablePlan = {
  /** Versions found unused for the first time: their mark is set to now. */
  readonly newlyUnusedIds: readonly string[];
  /** Versions marked unused that a live environment uses again: their mark is cleared. */
  readonly usedAgainIds: readonly string[];
  readonly drops: readonly TableDrop[];
  readonly waiting: readonly TableDrop[];
};

/** Which unused versions a pass selects, before their kinds are looked up. */
export type UnusedSelection = {
  readonly newlyUnusedIds: readonly string[];
  readonly usedAgainIds: readonly string[];
  readonly due: readonly (BuiltVersion & { readonly unusedSinceMs: number })[];
  readonly waiting: readonly (BuiltVersion & { readonly unusedSinceMs: number })[];
};

/** The environments whose views the janitor drops: expired ones, never prod. */
export function expiredEnvironmentsOf(
  environments: readonly EnvironmentRecord[],
  now: Date,
): EnvironmentRecord[] {
  return environments.filter(
    (environment) => environment.name !== PROD && isExpired(environment, now),
  );
}

/** The versions that `environments` hold now or keep for rollback, as version ids. */
export function liveVersionIdsOf(
  environments: readonly EnvironmentRecord[],
  versionIdOfSnapshot: ReadonlyMap<string, string>,
): Set<string> {
  const live = new Set<string>();
  for (const environment of environments) {
    const held = [
      ...Object.values(environment.snapshotIds),
      ...Object.values(environment.previousSnapshotIds ?? {}),
    ];
    for (const snapshotId of held) {
      const versionId = versionIdOfSnapshot.get(snapshotId);
      if (versionId !== undefined) live.add(versionId);
    }
  }
  return live;
}

/**
 * Sorts the built versions: a live one loses its unused mark; one that is not live is unused
 * since its mark (or since now, when it has none) and is due once that is `tableTtlMs` ago.
 */
export function selectUnusedTables(
  built: readonly BuiltVersion[],
  liveVersionIds: ReadonlySet<string>,
  nowMs: number,
  tableTtlMs: number,
): UnusedSelection {
  const newlyUnusedIds: string[] = [];
  const usedAgainIds: string[] = [];
  const due: UnusedSelection['due'][number][] = [];
  const waiting: UnusedSelection['waiting'][number][] = [];
  for (const version of built) {
    if (liveVersionIds.has(version.id)) {
      if (version.unusedSince !== undefined) usedAgainIds.push(version.id);
      continue;
    }
    if (version.unusedSince === undefined) newlyUnusedIds.push(version.id);
    const unusedSinceMs =
      version.unusedSince === undefined ? nowMs : Date.parse(version.unusedSince);
    const list = nowMs - unusedSinceMs >= tableTtlMs ? due : waiting;
    list.push({ ...version, unusedSinceMs });
  }
  return { newlyUnusedIds, usedAgainIds, due, waiting };
}

/** The expired environments and their views; `identifierLimitBytes` as for the gateway's engine. */
export async function planEnvironmentDrops(
  store: StateStore,
  now: Date,
  identifierLimitBytes: number | undefined,
): Promise<EnvironmentDrop[]> {
  const expired = expiredEnvironmentsOf(await listEnvironments(store), now);
  const drops: EnvironmentDrop[] = [];
  for (const environment of expired) {
    drops.push({
      name: environment.name,
      revision: environment.revision,
      expiresAt: environment.expiresAt ?? now.toISOString(),
      views: await viewsOf(store, environment, identifierLimitBytes),
    });
  }
  return drops;
}

/**
 * The views an environment's promotions created: one per model that has a table. A model whose
 * snapshot the store no longer holds still gets its view dropped (`IF EXISTS` makes that safe).
 */
async function viewsOf(
  store: StateStore,
  environment: EnvironmentRecord,
  identifierLimitBytes: number | undefined,
): Promise<TableName[]> {
  const snapshots = await findSnapshots(store, Object.values(environment.snapshotIds));
  return Object.entries(environment.snapshotIds)
    .filter(([, id]) => {
      const snapshot = snapshots.get(id);
      if (snapshot === undefined) return true;
      return upkeepOf(snapshot.model.kind) !== 'none' && snapshot.table !== undefined;
    })
    .map(([name]) => viewOf(name, environment.name, identifierLimitBytes))
    .sort((a, b) => `${a.schema}.${a.name}`.localeCompare(`${b.schema}.${b.name}`));
}

/**
 * The unused tables, with only `holding` environments counting as live: the environments left
 * after the expired ones were removed (or, for a dry run, the ones that are not expired).
 */
export async function planTableDrops(
  store: StateStore,
  holding: readonly EnvironmentRecord[],
  now: Date,
  tableTtlMs: number,
): Promise<TablePlan> {
  const snapshotIds = holding.flatMap((environment) => [
    ...Object.values(environment.snapshotIds),
    ...Object.values(environment.previousSnapshotIds ?? {}),
  ]);
  const versionIds = await readVersionIdsOfSnapshots(store, [...new Set(snapshotIds)]);
  const live = liveVersionIdsOf(holding, versionIds);
  const selection = selectUnusedTables(
    await readBuiltVersions(store),
    live,
    now.getTime(),
    tableTtlMs,
  );

  const viewIds = await viewVersionIds(
    store,
    selection.due.map((version) => version.id),
  );
  const dropOf = (version: UnusedSelection['due'][number]): TableDrop => ({
    versionId: version.id,
    modelName: version.modelName,
    version: version.version,
    table: version.table,
    isView: viewIds.has(version.id),
    unusedSinceMs: version.unusedSinceMs,
  });
  return {
    newlyUnusedIds: selection.newlyUnusedIds,
    usedAgainIds: selection.usedAgainIds,
    drops: selection.due.map(dropOf),
    waiting: selection.waiting.map(dropOf),
  };
}

/** Which of these versions are built as views (a VIEW model that is not materialised). */
async function viewVersionIds(
  store: StateStore,
  versionIds: readonly string[],
): Promise<Set<string>> {
  const snapshotIds = await readSnapshotIdsOfVersions(store, versionIds);
  const snapshots = await findSnapshots(store, [...snapshotIds.values()]);
  const views = new Set<string>();
  for (const [versionId, snapshotId] of snapshotIds) {
    const kind = snapshots.get(snapshotId)?.model.kind;
    if (kind?.name === 'VIEW' && upkeepOf(kind) === 'once') views.add(versionId);
  }
  return views;
}
