import type { PromoteTask, TaskPool } from '../../../src/protocol/task.js';
import type { NewQueuedTask } from '../../../src/state/tasks/enqueue-tasks.js';

/** Small tasks for the queue's tests: promotions carry no model, so they are cheap to build. */

/** A promote task of run `runId` in `pool`, with the queued-task fields the tests vary. */
export function queuedTask(
  id: string,
  options: Partial<Omit<NewQueuedTask, 'task'>> & {
    readonly runId?: string;
    readonly pool?: TaskPool;
  } = {},
): NewQueuedTask {
  const task: PromoteTask = {
    id,
    runId: options.runId ?? 'run-1',
    kind: 'promote',
    pool: options.pool ?? 'run',
    environment: options.environment ?? 'prod',
    executionTimeMs: 0,
    views: [],
    dropViews: [],
  };
  return {
    id,
    runId: task.runId,
    pool: task.pool,
    definition: task,
    gateway: options.gateway ?? 'local',
    priority: options.priority ?? 0,
    maxAttempts: options.maxAttempts ?? 3,
    ...(options.modelName === undefined ? {} : { modelName: options.modelName }),
    ...(options.environment === undefined ? {} : { environment: options.environment }),
    ...(options.dependsOn === undefined ? {} : { dependsOn: options.dependsOn }),
  };
}

/** A successful completion: the verdict the queue reads and the report it keeps. */
export const SUCCEEDED = {
  verdict: { status: 'succeeded' },
  report: { status: 'succeeded', rowsWritten: 3, durationMs: 5 },
} as const;

/** A failed completion, retryable or not. */
export function failed(isRetryable: boolean) {
  return {
    verdict: { status: 'failed', isRetryable },
    report: {
      status: 'failed',
      error: { code: 'engine_error', message: 'the engine refused', isRetryable },
      durationMs: 5,
    },
  } as const;
}

export const RETRY = { baseDelayMs: 1_000, maxDelayMs: 60_000 } as const;
