import { PROD } from '../../core/environments.js';
import { SluiceError } from '../../core/errors.js';
import type { TimeRange } from '../../core/intervals/range-set.js';
import type { Task, TaskOutcome, TaskPool } from '../../protocol/task.js';
import type { StateStore } from '../../state/state-store.js';
import { enqueueTasks, type NewQueuedTask } from '../../state/tasks/enqueue-tasks.js';
import type { TaskCompletions } from './task-completions.js';
import type { TaskQueue } from './task-queue.js';

/**
 * The Scheduler's side of tasks that Executors pull over HTTP: a task pushed here goes into the
 * state store's queue, and its outcome comes back once an Executor completed it (or the queue
 * gave up on it). A run coordinator in the service pushes to a `QueuedTaskQueue` exactly as the
 * CLI's local mode pushes to its in-memory queue.
 */

/** What every task of one run is queued with. */
export type QueueSettings = {
  readonly store: StateStore;
  readonly completions: TaskCompletions;
  readonly environment: string | undefined;
  /** The gateway whose engine the run works on, for the per-gateway cap. */
  readonly gateway: string;
  /** Claims before a retryable failure is final. */
  readonly maxAttempts: number;
  readonly now: () => number;
};

/** Prod's tasks are served before development environments' (lower is first). */
export function priorityOf(environment: string | undefined): number {
  return environment === PROD ? 0 : 10;
}

/**
 * Queues one task and resolves with how it ended; a task that cannot be queued fails. The queue
 * records `recordOnSuccess` for the task's version when the task succeeds.
 */
export async function runQueuedTask(
  task: Task,
  settings: QueueSettings,
  recordOnSuccess?: TimeRange,
): Promise<TaskOutcome> {
  try {
    const finished = settings.completions.wait(task.id);
    const queued = queuedOf(task, settings);
    await enqueueTasks(
      settings.store,
      [recordOnSuccess === undefined ? queued : { ...queued, recordsRange: recordOnSuccess }],
      settings.now(),
    );
    return await finished;
  } catch (error) {
    settings.completions.forget(task.id);
    const message = error instanceof Error ? error.message : String(error);
    return {
      status: 'failed',
      error: {
        code: 'state_unreachable',
        message: `The task could not be queued: ${message}`,
        isRetryable: true,
      },
      durationMs: 0,
    };
  }
}

/**
 * The queue a run coordinator pushes to when Executors run its tasks: every push is queued in the
 * store, and `onFinished` gets the task's outcome once it is known. Claims go through the pull
 * protocol, never through this object.
 */
export class QueuedTaskQueue implements TaskQueue {
  /** The completion's transaction records the range (complete-task.ts). */
  readonly recordsOnSuccess = true;
  readonly #settings: QueueSettings;
  readonly #onFinished: (taskId: string, outcome: TaskOutcome) => void;
  readonly #pending = new Set<string>();

  constructor(settings: QueueSettings, onFinished: (taskId: string, outcome: TaskOutcome) => void) {
    this.#settings = settings;
    this.#onFinished = onFinished;
  }

  /** Tasks queued whose outcome is not known yet. */
  get depth(): number {
    return this.#pending.size;
  }

  push(task: Task, recordOnSuccess?: TimeRange): void {
    this.#pending.add(task.id);
    void runQueuedTask(task, this.#settings, recordOnSuccess).then((outcome) => {
      if (!this.#pending.delete(task.id)) return;
      this.#onFinished(task.id, outcome);
    });
  }

  claim(_maxTasks: number, _signal: AbortSignal): Promise<readonly Task[]> {
    throw new SluiceError(
      'internal',
      'Tasks of a queued run are claimed by Executors through the pull protocol',
    );
  }

  /** Stops waiting for the outcomes of tasks still pending; they are never reported. */
  close(): void {
    for (const taskId of this.#pending) this.#settings.completions.forget(taskId);
    this.#pending.clear();
  }
}

function queuedOf(task: Task, settings: QueueSettings): NewQueuedTask {
  const isModelTask = task.kind === 'create' || task.kind === 'evaluate' || task.kind === 'audit';
  const environment = task.kind === 'promote' ? task.environment : settings.environment;
  return {
    id: task.id,
    runId: task.runId,
    pool: task.pool as TaskPool,
    definition: task,
    gateway: isModelTask ? task.context.gateway : settings.gateway,
    priority: priorityOf(environment),
    maxAttempts: settings.maxAttempts,
    ...(environment === undefined ? {} : { environment }),
    ...(isModelTask ? { modelName: task.modelName, versionId: task.versionId } : {}),
  };
}
