import type { AuditFindings, TaskOutcome } from './task.js';
import type { TaskOutcomeInfo } from './task-completion-api.js';

/**
 * A task's outcome between its in-process form (camelCase, as the task runner reports it) and
 * its wire form (the completion body of the pull protocol), both ways, losing nothing.
 */

/** The completion body's `outcome` for an outcome the task runner reported. */
export function outcomeToWire(outcome: TaskOutcome): TaskOutcomeInfo {
  const audit =
    outcome.audit === undefined
      ? {}
      : {
          audit: {
            failed_rows: outcome.audit.failedRows,
            sample_rows: outcome.audit.sampleRows.map((row) => ({ ...row })),
          },
        };
  if (outcome.status === 'succeeded') {
    return {
      status: 'succeeded',
      rows_written: outcome.rowsWritten,
      duration_ms: outcome.durationMs,
      ...audit,
    };
  }
  const { code, message, isRetryable } = outcome.error;
  return {
    status: 'failed',
    duration_ms: outcome.durationMs,
    error: { code, message, retryable: isRetryable },
    ...audit,
  };
}

/** The in-process outcome of a completion body's `outcome`. */
export function outcomeFromWire(info: TaskOutcomeInfo): TaskOutcome {
  const audit: { audit?: AuditFindings } =
    info.audit === undefined
      ? {}
      : { audit: { failedRows: info.audit.failed_rows, sampleRows: info.audit.sample_rows } };
  if (info.status === 'succeeded') {
    return {
      status: 'succeeded',
      rowsWritten: info.rows_written,
      durationMs: info.duration_ms,
      ...audit,
    };
  }
  const { code, message, retryable } = info.error;
  return {
    status: 'failed',
    durationMs: info.duration_ms,
    error: { code, message, isRetryable: retryable },
    ...audit,
  };
}
