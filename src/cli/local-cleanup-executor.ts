import type { Logger } from '../core/logger.js';
import type { EngineAdapter } from '../engines/engine-adapter.js';
import type { CleanupTask, TaskOutcome } from '../protocol/task.js';
import type { SqlParser } from '../sql/sql-parser.js';
import { runOneTaskLocally } from './local-plan-executor.js';

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
export function runLocalCleanup(
  task: CleanupTask,
  options: LocalCleanupOptions,
): Promise<TaskOutcome> {
  return runOneTaskLocally(task, options);
}
