import type { TaskError } from '../../protocol/task.js';
import type { DataValuePolicy } from './data-value-policy.js';
import { redactDataValues } from './redact-data-values.js';

/**
 * What an Executor sends about a task, passed through the data value policy on the way out:
 * each log line's message and each task error's message. The model's SQL in a log line is left
 * as it is; only engine error wordings are changed.
 */

/** A log line's message as the policy allows it to be sent. */
export function redactLogLine(message: string, policy: DataValuePolicy): string {
  return policy === 'keep' ? message : redactDataValues(message);
}

/** A task error as the policy allows it to be sent: its code and retryability stay. */
export function redactTaskError(error: TaskError, policy: DataValuePolicy): TaskError {
  if (policy === 'keep') return error;
  return { ...error, message: redactDataValues(error.message) };
}
