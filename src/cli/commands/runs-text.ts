import type { RunInfo } from '../../protocol/runs-api.js';
import type { ListedTaskInfo } from '../../protocol/task-listing-api.js';
import { formatRange } from '../time-ranges.js';

/** How `sluice runs` and `sluice runs show` print runs and tasks for people. */

/** One aligned line per run: id, kind, environment, status, when it started, who asked. */
export function runsTable(runs: readonly RunInfo[]): string {
  const rows = runs.map((run) => [
    run.id,
    run.kind,
    run.environment,
    statusText(run),
    instantText(run.created_at_ms),
    run.requested_by,
  ]);
  return table(['RUN', 'KIND', 'ENVIRONMENT', 'STATUS', 'STARTED', 'REQUESTED BY'], rows);
}

/** What `runs show` says of the run before its results: what, where, who, when. */
export function runHeader(run: RunInfo): string {
  const lines = [
    `Run ${run.id}: ${run.kind} of ${run.environment}, ${statusText(run)}`,
    `  requested by ${run.requested_by}, started ${instantText(run.created_at_ms)}` +
      (run.finished_at_ms === null ? '' : `, ended ${instantText(run.finished_at_ms)}`),
  ];
  if (run.plan_id !== null) lines.push(`  plan ${run.plan_id}`);
  const summary = run.summary as { isPromoted?: unknown; revision?: unknown } | null;
  if (summary?.isPromoted === true && typeof summary.revision === 'number') {
    lines.push(`  promoted: '${run.environment}' is at revision ${summary.revision}`);
  } else if (summary?.isPromoted === false) {
    lines.push(`  not promoted: '${run.environment}' is unchanged`);
  }
  return `${lines.join('\n')}\n`;
}

/** One aligned line per task: id, kind, model, interval, status, attempts. */
export function tasksTable(tasks: readonly ListedTaskInfo[]): string {
  if (tasks.length === 0) return 'No tasks were queued for this run.\n';
  const rows = tasks.map((task) => [
    task.id,
    task.kind,
    task.model_name ?? '-',
    task.interval === null ? '-' : formatRange([task.interval.start_ms, task.interval.end_ms]),
    task.status,
    `${task.attempt}/${task.max_attempts}`,
  ]);
  const title = `${tasks.length} ${tasks.length === 1 ? 'task' : 'tasks'}:\n`;
  return title + table(['TASK', 'KIND', 'MODEL', 'INTERVAL', 'STATUS', 'ATTEMPT'], rows);
}

/** A run's status, with a cancellation asked for but not yet seen through. */
function statusText(run: RunInfo): string {
  return run.status === 'running' && run.is_cancel_requested ? 'cancelling' : run.status;
}

/** An instant in UTC, to the second. */
export function instantText(instantMs: number): string {
  return new Date(instantMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((title, index) =>
    Math.max(title.length, ...rows.map((row) => (row[index] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, index) => cell.padEnd(widths[index] ?? 0))
      .join('  ')
      .trimEnd();
  return `${[header, ...rows].map(line).join('\n')}\n`;
}
