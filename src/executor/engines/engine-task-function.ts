import type { Logger } from '../../core/logger.js';
import type { Task, TaskError } from '../../protocol/task.js';
import type { SqlParser } from '../../sql/sql-parser.js';
import { runTask } from '../tasks/task-runner.js';
import type { TaskContext, TaskFunction, WorkerTaskOutcome } from '../worker/worker-options.js';
import type { EngineAdapters } from './engine-adapters.js';
import { withStatementLog } from './statement-log.js';
import { withTransactionIds } from './transaction-ids.js';

/**
 * The task function of an Executor that runs tasks on SQL engines: the task runner of
 * src/executor/tasks, unchanged, on the adapter of the task's gateway, with the task's abort
 * signal cancelling its statements. Model tasks name their gateway; promote and cleanup tasks do
 * not, and run on the Executor's default gateway (the project's default). Each statement's SQL
 * goes to the task's log at debug (never its parameters); an error message passes through
 * `redact` before it leaves, and a failure is also written to the Executor's own log.
 */

/** What the task function needs. */
export type EngineTaskOptions = {
  readonly adapters: EngineAdapters;
  readonly parser: SqlParser;
  /** The gateway of tasks that do not name one. */
  readonly defaultGateway: string;
  /** Applied to every error message and log line that leaves the Executor. */
  readonly redact: (text: string) => string;
  /** The Executor's own log: a failed task is written there too, at warn. */
  readonly logger: Logger;
};

/** A task function running each task on its gateway's engine. */
export function engineTaskFunction(options: EngineTaskOptions): TaskFunction {
  return async (task, context) => {
    const gateway = gatewayOf(task, options.defaultGateway);
    context.log(
      'info',
      `${describeTask(task)} on gateway '${gateway}', attempt ${context.attempt}`,
    );

    const outcome = await runOnGateway(task, gateway, context, options);
    if (outcome.status === 'failed') {
      const error = redactedError(outcome.error, options.redact);
      context.log('error', `${error.code}: ${error.message}`);
      options.logger.warn(
        { taskId: task.id, gateway, code: error.code, isRetryable: error.isRetryable },
        `task failed: ${error.message}`,
      );
      return { ...outcome, error };
    }
    context.log('info', `succeeded in ${outcome.durationMs} ms`);
    return outcome;
  };
}

async function runOnGateway(
  task: Task,
  gateway: string,
  context: TaskContext,
  options: EngineTaskOptions,
): Promise<WorkerTaskOutcome> {
  const startedMs = performance.now();
  let adapter: Awaited<ReturnType<EngineAdapters['adapterOf']>>;
  try {
    adapter = await options.adapters.adapterOf(gateway);
  } catch (error) {
    const durationMs = Math.round(performance.now() - startedMs);
    return { status: 'failed', error: connectError(gateway, error), durationMs };
  }
  const transactionIds: string[] = [];
  const logged = withStatementLog(withTransactionIds(adapter, transactionIds), (sql) =>
    context.log('debug', sql),
  );
  const outcome = await runTask(task, { adapter: logged, parser: options.parser }, context.signal);
  return transactionIds.length === 0
    ? outcome
    : { ...outcome, usage: { engineQueryIds: transactionIds } };
}

function gatewayOf(task: Task, defaultGateway: string): string {
  return task.kind === 'promote' || task.kind === 'cleanup' ? defaultGateway : task.context.gateway;
}

function describeTask(task: Task): string {
  if (task.kind === 'promote') return `promote of environment '${task.environment}'`;
  if (task.kind === 'cleanup') return `cleanup of ${task.drops.length} objects`;
  const interval =
    task.interval === undefined
      ? ''
      : ` over [${new Date(task.interval.startMs).toISOString()}, ` +
        `${new Date(task.interval.endMs).toISOString()})`;
  return `${task.kind} of '${task.modelName}'${interval}`;
}

/** A gateway that cannot be opened: retryable, since the engine may be back by the next try. */
function connectError(gateway: string, error: unknown): TaskError {
  const message = error instanceof Error ? error.message : String(error);
  return {
    code: 'engine_unreachable',
    message: `Gateway '${gateway}' could not be opened: ${message}`,
    isRetryable: true,
  };
}

function redactedError(error: TaskError, redact: (text: string) => string): TaskError {
  return { ...error, message: redact(error.message) };
}
