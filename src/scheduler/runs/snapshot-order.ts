import { Dag } from '../../core/dag.js';
import type { Snapshot } from '../../core/snapshot.js';

/**
 * The names of a set of snapshots, parents first, from the dependencies their definitions
 * record: the order of an environment as it was promoted, whatever the project looks like now.
 */
export function snapshotOrder(snapshots: ReadonlyMap<string, Snapshot>): readonly string[] {
  const parents = new Map<string, readonly string[]>();
  for (const [name, snapshot] of snapshots) {
    const declared = [...snapshot.model.dependencies, ...snapshot.model.dependsOn];
    parents.set(
      name,
      declared.filter((parent) => snapshots.has(parent)),
    );
  }
  return Dag.build(parents).nodes;
}
