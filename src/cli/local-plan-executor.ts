import type { Logger } from '../core/logger.js';
import type { EngineAdapter } from '../engines/engine-adapter.js';
import { runTaskLoop } from '../executor/tasks/task-loop.js';
import { runTask } from '../executor/tasks/task-runner.js';
import type { Task, TaskOutcome, TaskSource } from '../protocol/task.js';
import type { PlanExecutor } from '../scheduler/plans/apply-plan.js';
import type { RunEvent } from '../scheduler/runs/run-coordinator.js';
import { InMemoryTaskQueue } from '../scheduler/runs/task-queue.js';
import type { SqlParser } from '../sql/sql-parser.js';
import type { StateStore } from '../state/state-store.js';
import { runLocally } from './local-run.js';

/** What running plan work in this process needs. */
export type LocalExecutorOptions = {
  readonly store: StateStore;
  readonly adapter: EngineAdapter;
  readonly parser: SqlParser;
  readonly slots: number;
  readonly signal: AbortSignal;
  readonly logger: Logger;
  readonly onEvent?: (event: RunEvent) => void;
};

/**
 * Plan work in this process: graphs run through the run coordinator and the Executor's task
 * loop (see runLocally), and the promote task goes through a queue and the same loop, so every
 * task takes the path it will take when Executors pull it over HTTP.
 */
export function localPlanExecutor(options: LocalExecutorOptions): PlanExecutor {
  return {
    runGraph: async (graph, runOptions) => {
      const result = await runLocally({
        ...options,
        ...runOptions,
        graph,
        nowMs: Date.now(),
      });
      return result.models;
    },
    runPromotion: (task) => runOneTaskLocally(task, options),
  };
}

/**
 * Runs one task in this process through a queue and the Executor's task loop, the path it takes
 * when an Executor pulls it over HTTP; a task the loop never finished counts as cancelled.
 */
export async function runOneTaskLocally(
  task: Task,
  options: Pick<LocalExecutorOptions, 'adapter' | 'parser' | 'signal' | 'logger' | 'onEvent'>,
): Promise<TaskOutcome> {
  const queue = new InMemoryTaskQueue();
  queue.push(task);
  queue.close();
  let outcome: TaskOutcome | undefined;
  const source: TaskSource = {
    claim: async (maxTasks, signal) => {
      const tasks = await queue.claim(maxTasks, signal);
      for (const claimed of tasks) options.onEvent?.({ type: 'task_started', task: claimed });
      return tasks;
    },
    complete: async (_taskId, reported) => {
      outcome = reported;
      options.onEvent?.({ type: 'task_finished', task, outcome: reported });
    },
  };
  await runTaskLoop(source, {
    slots: 1,
    signal: options.signal,
    logger: options.logger,
    runTask: (claimed: Task, signal) =>
      runTask(claimed, { adapter: options.adapter, parser: options.parser }, signal),
  });
  return (
    outcome ?? {
      status: 'failed',
      error: {
        code: 'query_cancelled',
        message: 'The promotion was cancelled',
        isRetryable: false,
      },
      durationMs: 0,
    }
  );
}
