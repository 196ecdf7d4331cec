import { z } from 'zod';
import { SluiceError } from '../../core/errors.js';
import { taskOutcomeSchema } from '../../protocol/task-completion-api.js';
import type {
  ListedTaskInfo,
  RunTasksInfo,
  TaskDetailInfo,
  TaskOutcomeSummaryInfo,
  TaskStatusName,
} from '../../protocol/task-listing-api.js';
import { readRun } from '../../state/runs/run-store.js';
import type { StateStore } from '../../state/state-store.js';
import { type ListedTask, listRunTasks, readListedTask } from '../../state/tasks/task-listing.js';
import { readTaskRecord } from '../../state/tasks/task-queries.js';

/**
 * A run's tasks and one task in the API's terms, shared by the task routes and the CLI working
 * on the state store, so that both answer the same.
 */

/** Tasks per page when the caller names no limit. */
export const DEFAULT_TASK_PAGE = 100;

/** The API's query of a run's tasks. */
export type RunTasksQuery = {
  readonly status?: TaskStatusName | undefined;
  readonly limit?: number | undefined;
  readonly after?: string | undefined;
};

/** What the queue keeps of a completion: the outcome as the Executor sent it, and more. */
const storedReportSchema = z.looseObject({
  outcome: taskOutcomeSchema,
  cost: z.looseObject({ engine_query_ids: z.array(z.string()).optional() }).optional(),
});

/** One page of the run's tasks; `run_not_found` when there is no such run. */
export async function runTasksInfo(
  store: StateStore,
  runId: string,
  query: RunTasksQuery,
): Promise<RunTasksInfo> {
  await readRun(store, runId);
  const limit = query.limit ?? DEFAULT_TASK_PAGE;

  const found = await listRunTasks(store, runId, {
    limit: limit + 1,
    ...(query.status === undefined ? {} : { status: query.status }),
    ...(query.after === undefined ? {} : { afterTaskId: query.after }),
  });

  const page = found.slice(0, limit);
  const last = page.at(-1);
  const hasMore = found.length > limit && last !== undefined;
  return { tasks: page.map(listedTaskInfo), next: hasMore ? last.id : null };
}

/** One task with its last reported outcome; `task_not_found` when there is none. */
export async function taskDetailInfo(store: StateStore, taskId: string): Promise<TaskDetailInfo> {
  const task = await readListedTask(store, taskId);
  if (task === undefined) {
    throw new SluiceError(
      'task_not_found',
      `There is no task '${taskId}'; 'sluice runs show RUN' lists the tasks of a run`,
    );
  }
  const record = await readTaskRecord(store, taskId);
  return { ...listedTaskInfo(task), last_outcome: outcomeSummary(record.lastReport) };
}

/** A listed task in its wire form. */
export function listedTaskInfo(task: ListedTask): ListedTaskInfo {
  return {
    id: task.id,
    run_id: task.runId,
    pool: task.pool,
    kind: task.kind,
    model_name: task.modelName ?? null,
    status: task.status,
    attempt: task.attempt,
    max_attempts: task.maxAttempts,
    interval:
      task.interval === undefined
        ? null
        : { start_ms: task.interval.startMs, end_ms: task.interval.endMs },
    created_at_ms: task.createdAtMs,
    finished_at_ms: task.finishedAtMs ?? null,
    ready_at_ms: task.readyAtMs,
  };
}

/** The outcome a completion reported, decoded; null before any or when it cannot be read. */
function outcomeSummary(report: unknown): TaskOutcomeSummaryInfo | null {
  if (report === undefined) return null;
  const parsed = storedReportSchema.safeParse(report);
  if (!parsed.success) return null;

  const { outcome, cost } = parsed.data;
  const engine_query_ids = cost?.engine_query_ids ?? [];
  if (outcome.status === 'succeeded') {
    const { duration_ms, rows_written } = outcome;
    return { status: 'succeeded', duration_ms, rows_written, error: null, engine_query_ids };
  }
  const { code, message } = outcome.error;
  return {
    status: 'failed',
    duration_ms: outcome.duration_ms,
    rows_written: null,
    error: { code, message },
    engine_query_ids,
  };
}
