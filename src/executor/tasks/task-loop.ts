import type { Logger } from '../../core/logger.js';
import type { Task, TaskOutcome, TaskSource } from '../../protocol/task.js';

/** How an Executor pulls: how many tasks at once, and how to run one. */
export type TaskLoopOptions = {
  readonly slots: number;
  readonly signal: AbortSignal;
  readonly logger: Logger;
  readonly runTask: (task: Task, signal: AbortSignal) => Promise<TaskOutcome>;
};

/**
 * Pulls tasks from a source and runs up to `slots` of them at once, reporting each outcome, until
 * the source has no more work or the signal aborts; then waits for the tasks still running (the
 * signal cancels their SQL) and returns.
 */
export async function runTaskLoop(source: TaskSource, options: TaskLoopOptions): Promise<void> {
  const running = new Set<Promise<void>>();
  const slots = Math.max(1, Math.floor(options.slots));

  while (!options.signal.aborted) {
    if (running.size >= slots) {
      await Promise.race(running);
      continue;
    }
    const tasks = await source.claim(slots - running.size, options.signal);
    if (tasks.length === 0) break;
    for (const task of tasks) {
      const execution: Promise<void> = execute(source, task, options).finally(() =>
        running.delete(execution),
      );
      running.add(execution);
    }
  }
  await Promise.all(running);
}

async function execute(source: TaskSource, task: Task, options: TaskLoopOptions): Promise<void> {
  const subject =
    task.kind === 'promote'
      ? { environment: task.environment }
      : task.kind === 'cleanup'
        ? { drops: task.drops.length }
        : { model: task.modelName };
  const logger = options.logger.child({ taskId: task.id, ...subject });
  logger.debug({ kind: task.kind }, 'task started');
  const outcome = await options.runTask(task, options.signal);
  logger.debug({ status: outcome.status, durationMs: outcome.durationMs }, 'task finished');
  await source.complete(task.id, outcome).catch((error: unknown) => {
    logger.error({ err: error }, 'could not report a task outcome');
  });
}
