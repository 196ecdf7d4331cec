import { SluiceError } from '../../core/errors.js';
import type { Model } from '../../core/model.js';
import type { TableResolver } from '../../core/table-resolver.js';
import type { EngineAdapter } from '../../engines/engine-adapter.js';
import type { RenderScope } from '../../project/model-renderer.js';
import { renderModel } from '../../project/model-renderer.js';
import { describeAuditFindings } from '../../protocol/audit-findings.js';
import type { ModelTask, Task, TaskOutcome } from '../../protocol/task.js';
import type { MacroValue } from '../../sql/macro-context.js';
import type { SqlParser } from '../../sql/sql-parser.js';
import { runAudit } from '../audits/run-audit.js';
import { runCleanup } from '../cleanup/run-cleanup.js';
import { createTarget } from '../materialize/create-target.js';
import { type MaterializeRequest, materialize } from '../materialize/materialize.js';
import { promoteEnvironment } from '../promote/promote-environment.js';

/** What running a task needs on the Executor's side. */
export type TaskRunnerDeps = {
  readonly adapter: EngineAdapter;
  readonly parser: SqlParser;
};

/**
 * Runs one task on the engine. A model task renders the model from the definitions it carries,
 * with its references pointed at the physical tables it names, then creates the version's table,
 * evaluates its interval or audits it; a promote task points an environment's views at its
 * tables, and a cleanup task drops what nothing uses. Every failure comes back as an outcome,
 * never as a throw, so the caller can report it; a failed write is rolled back.
 */
export async function runTask(
  task: Task,
  deps: TaskRunnerDeps,
  signal?: AbortSignal,
): Promise<TaskOutcome> {
  const startedMs = performance.now();
  const elapsedMs = () => Math.round(performance.now() - startedMs);
  try {
    if (task.kind === 'promote') {
      await promoteEnvironment(deps.adapter, task, signal);
      return { status: 'succeeded', rowsWritten: 0, durationMs: elapsedMs() };
    }
    if (task.kind === 'cleanup') {
      await runCleanup(deps.adapter, task, signal);
      return { status: 'succeeded', rowsWritten: 0, durationMs: elapsedMs() };
    }
    if (task.kind === 'audit') return await auditOutcome(task, deps, signal, elapsedMs);
    const request = await requestOf(task, deps.parser, signal);
    const result =
      task.kind === 'create'
        ? await createTarget(deps.adapter, request, { isForwardOnly: task.isForwardOnly === true })
        : await materialize(deps.adapter, request);
    return { status: 'succeeded', rowsWritten: result.rowsWritten, durationMs: elapsedMs() };
  } catch (error) {
    return { status: 'failed', error: taskErrorOf(error), durationMs: elapsedMs() };
  }
}

/**
 * Runs an audit over the task's interval. Failed rows fail a blocking audit, naming the audit,
 * the model, the interval and the count; a non-blocking audit succeeds with its findings, which
 * the Scheduler reports as a warning.
 */
async function auditOutcome(
  task: ModelTask,
  deps: TaskRunnerDeps,
  signal: AbortSignal | undefined,
  elapsedMs: () => number,
): Promise<TaskOutcome> {
  const audit = task.audit;
  if (audit === undefined) {
    throw new SluiceError('internal', `Audit task ${task.id} names no audit`);
  }
  const findings = await runAudit(deps.adapter, deps.parser, task, signal);
  if (findings.failedRows === 0 || !audit.isBlocking) {
    return { status: 'succeeded', rowsWritten: 0, durationMs: elapsedMs(), audit: findings };
  }
  return {
    status: 'failed',
    error: {
      code: 'audit_failed',
      message: describeAuditFindings(task, findings),
      isRetryable: false,
    },
    durationMs: elapsedMs(),
    audit: findings,
  };
}

async function requestOf(
  task: ModelTask,
  parser: SqlParser,
  signal: AbortSignal | undefined,
): Promise<MaterializeRequest> {
  const scope = scopeOf(task);
  const model = scope.models.get(task.modelName);
  const target = task.context.tables[task.modelName];
  if (model === undefined || target === undefined) {
    throw new SluiceError(
      'internal',
      `Task ${task.id} for model '${task.modelName}' carries no definition or table for it`,
    );
  }

  const executionTime = new Date(task.executionTimeMs);
  const interval = {
    start: new Date(task.interval?.startMs ?? task.executionTimeMs),
    end: new Date(task.interval?.endMs ?? task.executionTimeMs),
  };
  const rendered = await renderModel(
    scope,
    model.name,
    {
      ...interval,
      executionTime,
      runtimeStage: task.kind === 'create' ? 'creating' : 'evaluating',
      resolver: resolverOf(task),
    },
    parser,
  );
  return { model, target, rendered, interval, executionTime, ...(signal ? { signal } : {}) };
}

function scopeOf(task: ModelTask): RenderScope {
  const models = new Map<string, Model>(task.context.models.map((model) => [model.name, model]));
  return {
    models,
    config: {
      name: task.context.projectName,
      defaultGateway: task.context.gateway,
      variables: task.context.variables as Readonly<Record<string, MacroValue>>,
    },
  };
}

function resolverOf(task: ModelTask): TableResolver {
  return { resolve: (name) => task.context.tables[name] };
}

/** A failure as the protocol carries it: Sluice's errors keep their code and retry flag. */
function taskErrorOf(error: unknown): { code: string; message: string; isRetryable: boolean } {
  if (error instanceof SluiceError) {
    return { code: error.code, message: error.message, isRetryable: error.retryable };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { code: 'internal', message, isRetryable: false };
}
