import type { Model } from '../../core/model.js';
import type { Snapshot } from '../../core/snapshot.js';
import type { TableName } from '../../core/table-resolver.js';
import type { ModelTaskContext } from '../../protocol/task.js';

/** What every task of a project carries besides its models: the project's name and gateway. */
export type ProjectScope = {
  readonly projectName: string;
  readonly gateway: string;
};

/** One model of a run: its snapshot, what its tasks carry, and its neighbours in the run. */
export type RunNode = {
  readonly snapshot: Snapshot;
  readonly context: ModelTaskContext;
  readonly parents: readonly string[];
  readonly children: readonly string[];
};

/**
 * The graph of a run: every snapshot with the parents and children that are also in the run, in
 * the given dependency order (parents first).
 */
export function buildRunGraph(
  snapshots: ReadonlyMap<string, Snapshot>,
  order: readonly string[],
  scope: ProjectScope,
): Map<string, RunNode> {
  const children = new Map<string, string[]>();
  for (const name of order) {
    for (const parent of parentsOf(snapshots, name)) {
      const list = children.get(parent) ?? [];
      list.push(name);
      children.set(parent, list);
    }
  }

  const nodes = new Map<string, RunNode>();
  for (const name of order) {
    const snapshot = snapshots.get(name);
    if (snapshot === undefined) continue;
    nodes.set(name, {
      snapshot,
      context: contextOf(snapshot, snapshots, scope),
      parents: parentsOf(snapshots, name),
      children: children.get(name) ?? [],
    });
  }
  return nodes;
}

function parentsOf(snapshots: ReadonlyMap<string, Snapshot>, name: string): string[] {
  const model = snapshots.get(name)?.model;
  if (model === undefined) return [];
  return [...new Set([...model.dependencies, ...model.dependsOn])].filter((parent) =>
    snapshots.has(parent),
  );
}

/**
 * The models, tables and variables a task of `snapshot` needs to render: its own model, its
 * direct dependencies, and every embedded model reachable through embedded dependencies together
 * with what those read, since embedded queries are inlined.
 */
function contextOf(
  snapshot: Snapshot,
  snapshots: ReadonlyMap<string, Snapshot>,
  scope: ProjectScope,
): ModelTaskContext {
  const models = new Map<string, Model>([[snapshot.name, snapshot.model]]);
  const tables: Record<string, TableName> = {};
  const variables: Record<string, unknown> = {};
  const visit = (current: Snapshot) => {
    Object.assign(variables, current.variables);
    if (current.table !== undefined) tables[current.name] = current.table;
    for (const name of current.model.dependencies) {
      const dependency = snapshots.get(name);
      if (dependency === undefined || models.has(name)) continue;
      models.set(name, dependency.model);
      if (dependency.model.kind.name === 'EMBEDDED') visit(dependency);
      else if (dependency.table !== undefined) tables[name] = dependency.table;
    }
  };
  visit(snapshot);
  return { ...scope, variables, models: [...models.values()], tables };
}
