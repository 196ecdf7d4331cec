import type { Logger } from '../core/logger.js';
import type { EngineAdapter } from '../engines/engine-adapter.js';
import { runTaskLoop } from '../executor/tasks/task-loop.js';
import { runTask } from '../executor/tasks/task-runner.js';
import type { CleanupTask, Task, TaskOutcome, TaskSource } from '../protocol/task.js';
import { InMemoryTaskQueue } from '../scheduler/runs/task-queue.js';
import type { SqlParser } from '../sql/sql-parser.js';

/** What running cleanup tasks in this process needs. */
export type LocalCleanupOptions = {
  readonly adapter: EngineAdapter;
  readonly parser: SqlParser;
  readonly signal: AbortSignal;
  readonly logger: Logger;
};

/**
 * Runs one cleanup task in this process: through a queue and the Executor's task loop, the path
 * it takes when an Executor pulls it over HTTP.
 */
export async function runLocalCleanup(
  task: CleanupTask,
  options: LocalCleanupOptions,
): Promise<TaskOutcome> {
  const queue = new InMemoryTaskQueue();
  queue.push(task);
  queue.close();
  let outcome: TaskOutcome | undefined;
  const source: TaskSource = {
    claim: (maxTasks, signal) => queue.claim(maxTasks, signal),
    complete: async (_taskId, reported) => {
      outcome = reported;
    },
  };

  await runTaskLoop(source, {
    slots: 1,
    signal: options.signal,
    logger: options.logger,
    runTask: (claimed: Task, signal) =>
      runTask(claimed, { adapter: options.adapter, parser: options.parser }, signal),
  });
  return outcome ?? cancelledOutcome();
}

function cancelledOutcome(): TaskOutcome {
  return {
    status: 'failed',
    error: { code: 'query_cancelled', message: 'The cleanup was cancelled', isRetryable: false },
    durationMs: 0,
  };
}
