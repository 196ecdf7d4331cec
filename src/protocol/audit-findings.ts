import type { AuditFindings, ModelTask } from './task.js';

/**
 * What an audit found, in one sentence: the audit, the model, the interval, how many rows failed
 * and a few of them. The Executor fails a blocking audit with it; the Scheduler warns with it
 * for a non-blocking one.
 */
export function describeAuditFindings(task: ModelTask, findings: AuditFindings): string {
  const interval =
    task.interval === undefined
      ? ''
      : ` on [${dayOrInstant(task.interval.startMs)}, ${dayOrInstant(task.interval.endMs)})`;
  const rows = findings.failedRows === 1 ? '1 row' : `${findings.failedRows} rows`;
  const samples = findings.sampleRows.map((row) => JSON.stringify(row)).join(', ');
  return (
    `Audit '${task.audit?.name ?? ''}' of model '${task.modelName}' failed${interval}: ${rows} ` +
    `failed${samples === '' ? '' : `, for example ${samples}`}`
  );
}

function dayOrInstant(ms: number): string {
  return new Date(ms).toISOString().replace('T00:00:00.000Z', '');
}
