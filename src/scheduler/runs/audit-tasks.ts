import type { TimeRange } from '../../core/intervals/range-set.js';
import type { ModelTask } from '../../protocol/task.js';
import type { RunNode } from './run-graph.js';

/**
 * Audit tasks for running audits by hand: one per audit of each chosen model, over `range` (for
 * incremental models the audit checks only that range; other kinds check their whole table).
 */
export function auditTasksOf(
  graph: ReadonlyMap<string, RunNode>,
  modelNames: readonly string[],
  range: TimeRange,
  runId: string,
  nowMs: number,
): ModelTask[] {
  const tasks: ModelTask[] = [];
  for (const name of modelNames) {
    const node = graph.get(name);
    if (node === undefined || node.snapshot.table === undefined) continue;
    for (const audit of node.snapshot.audits) {
      tasks.push({
        id: `${runId}-${tasks.length + 1}`,
        runId,
        kind: 'audit',
        pool: 'run',
        modelName: name,
        snapshotId: node.snapshot.id,
        versionId: `${name}/${node.snapshot.version}`,
        interval: { startMs: range[0], endMs: range[1] },
        executionTimeMs: nowMs,
        context: node.context,
        audit,
      });
    }
  }
  return tasks;
}
