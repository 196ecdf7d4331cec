import { SluiceError } from '../../core/errors.js';
import type { Model } from '../../core/model.js';
import type { EngineAdapter } from '../../engines/engine-adapter.js';
import type { AuditFindings, ModelTask } from '../../protocol/task.js';
import { quoteTable } from '../../sql/dialect.js';
import type { MacroValue } from '../../sql/macro-context.js';
import { rewriteReferences, type SqlParser } from '../../sql/sql-parser.js';
import { jsonSafeRow } from './json-safe-row.js';
import { renderAuditQuery } from './render-audit-query.js';

/** How many failing rows an audit's findings show at most. */
export const SAMPLE_ROW_LIMIT = 5;

/**
 * Runs an audit task's audit over the model's physical table (for an incremental model, over the
 * task's interval): counts the failing rows and reads a few of them. A SQL audit's references to
 * other models point at the tables the task names. Failures name the audit and the model.
 */
export async function runAudit(
  adapter: EngineAdapter,
  parser: SqlParser,
  task: ModelTask,
  signal?: AbortSignal,
): Promise<AuditFindings> {
  const { spec, model, table } = partsOf(task);
  const label = `Audit '${spec.name}' of model '${model.name}'`;
  try {
    const timeColumnType = await timeColumnTypeOf(adapter, model, table, task);
    const rendered = renderAuditQuery(
      spec,
      { table, model, interval: task.interval, ...(timeColumnType ? { timeColumnType } : {}) },
      adapter.dialect,
      {
        executionTimeMs: task.executionTimeMs,
        gateway: task.context.gateway,
        variables: task.context.variables as Readonly<Record<string, MacroValue>>,
      },
    );
    const sql = spec.definition === undefined ? rendered : await pointed(rendered, task, parser);
    return await findings(adapter, sql, signal);
  } catch (error) {
    throw withAuditLabel(error, label);
  }
}

function partsOf(task: ModelTask) {
  const spec = task.audit;
  const model: Model | undefined = task.context.models[0];
  const table = task.context.tables[task.modelName];
  if (spec === undefined || model === undefined || table === undefined) {
    throw new SluiceError(
      'internal',
      `Audit task ${task.id} for model '${task.modelName}' carries no audit, definition or table`,
    );
  }
  return { spec, model, table };
}

async function findings(
  adapter: EngineAdapter,
  sql: string,
  signal: AbortSignal | undefined,
): Promise<AuditFindings> {
  const options = signal === undefined ? {} : { signal };
  const failing = `(${sql}\n) AS sluice_audit`;
  const counted = await adapter.query(
    `SELECT COUNT(*) AS failed_rows FROM ${failing}`,
    [],
    options,
  );
  const failedRows = Number(counted.rows[0]?.failed_rows ?? 0);
  if (failedRows === 0) return { failedRows, sampleRows: [] };

  const sample = await adapter.query(
    `SELECT * FROM ${failing} LIMIT ${SAMPLE_ROW_LIMIT}`,
    [],
    options,
  );
  return { failedRows, sampleRows: sample.rows.map(jsonSafeRow) };
}

/** The engine's type of an incremental model's time column, when the audit covers an interval. */
async function timeColumnTypeOf(
  adapter: EngineAdapter,
  model: Model,
  table: ModelTask['context']['tables'][string],
  task: ModelTask,
): Promise<string | undefined> {
  if (model.kind.name !== 'INCREMENTAL_BY_TIME_RANGE' || task.interval === undefined) {
    return undefined;
  }
  const timeColumn = model.kind.timeColumn.toLowerCase();
  const columns = await adapter.describeTable(table);
  return columns?.find((column) => column.name.toLowerCase() === timeColumn)?.type;
}

/** A SQL audit's references to the task's other models, pointed at their physical tables. */
async function pointed(sql: string, task: ModelTask, parser: SqlParser): Promise<string> {
  const dialect = task.context.models[0]?.dialect ?? 'duckdb';
  const references = await parser.findReferences(sql, dialect);
  return rewriteReferences(sql, references, (reference) => {
    const table = task.context.tables[reference.name];
    return table === undefined ? undefined : quoteTable(dialect, table);
  });
}

/** Sluice's errors keep their code and retry flag, their message prefixed with the audit. */
function withAuditLabel(error: unknown, label: string): SluiceError {
  if (error instanceof SluiceError) {
    if (error.message.startsWith(label)) return error;
    return new SluiceError(error.code, `${label} could not run: ${error.message}`, {
      retryable: error.retryable,
      cause: error,
      ...(error.location === undefined ? {} : { location: error.location }),
    });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new SluiceError('internal', `${label} could not run: ${message}`, { cause: error });
}
