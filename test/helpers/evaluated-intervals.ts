import type { ModelTask } from '../../src/protocol/task.js';
import type { StateStore } from '../../src/state/state-store.js';
import { definitionAddress } from '../../src/state/tasks/task-rows.js';

/**
 * How many succeeded evaluate tasks wrote each interval of each version, read from the task
 * queue of a store: `'<version id> <start ms>-<end ms>'` → count. An interval written once by
 * every run together has a count of 1.
 */
export async function evaluatedIntervals(store: StateStore): Promise<Map<string, number>> {
  const rows = await store.db
    .selectFrom('sluice_tasks')
    .select(['id', 'definition'])
    .where('status', '=', 'succeeded')
    .execute();
  const counts = new Map<string, number>();
  for (const row of rows) {
    const text = store.cipher.decryptText(
      row.definition as Buffer,
      definitionAddress(String(row.id)),
    );
    const task = JSON.parse(text) as ModelTask;
    if (task.kind !== 'evaluate' || task.interval === undefined) continue;
    const key = `${task.versionId} ${task.interval.startMs}-${task.interval.endMs}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}
