import { randomUUID } from 'node:crypto';
import { checkEnvironmentName, PROD } from '../../core/environments.js';
import { SluiceError } from '../../core/errors.js';
import { runTaskLoop } from '../../executor/tasks/task-loop.js';
import { runTask } from '../../executor/tasks/task-runner.js';
import { findModel } from '../../project/model-renderer.js';
import { loadProject } from '../../project/project-loader.js';
import { describeAuditFindings } from '../../protocol/audit-findings.js';
import type { ModelTask, TaskOutcome, TaskSource } from '../../protocol/task.js';
import { auditTasksOf } from '../../scheduler/runs/audit-tasks.js';
import { buildRunGraph } from '../../scheduler/runs/run-graph.js';
import { snapshotOrder } from '../../scheduler/runs/snapshot-order.js';
import { InMemoryTaskQueue } from '../../scheduler/runs/task-queue.js';
import { createSqlParser } from '../../sql/sql-parser.js';
import { withInterrupt } from '../interrupt.js';
import { type IntervalOptions, parseIntervalOptions } from '../interval-options.js';
import type { CommandContext } from '../output.js';
import { defaultGatewayOf, withEngine } from '../project-run-setup.js';
import type { StateCliOptions } from '../state-context.js';
import { withStore } from '../with-state.js';
import { environmentSnapshots } from './environment-commands.js';

export type AuditCommandOptions = StateCliOptions & IntervalOptions & { readonly env?: string };

/**
 * `sluice audit [MODEL] [--start D --end D] [--env ENV]`: runs the audits of one model, or of
 * every model of the environment, over an interval (default yesterday), independent audits in
 * parallel, and prints what each found. Exits non-zero when a blocking audit failed.
 */
export async function auditCommand(
  context: CommandContext,
  modelName: string | undefined,
  options: AuditCommandOptions,
): Promise<void> {
  const environment = checkEnvironmentName(options.env ?? PROD);
  const interval = parseIntervalOptions(options);
  const project = await loadProject(context.projectDir, { logger: context.logger });
  const gateway = defaultGatewayOf(project);
  const chosen = modelName === undefined ? undefined : findModel(project, modelName).name;

  const outcomes = await withStore(context, options, true, async (store) => {
    const snapshots = await environmentSnapshots(store, environment);
    const graph = buildRunGraph(snapshots, snapshotOrder(snapshots), {
      projectName: project.config.name,
      gateway: gateway.name,
    });
    if (chosen !== undefined && !graph.has(chosen)) {
      throw new SluiceError(
        'model_not_found',
        `Environment '${environment}' has no model '${chosen}'; plan it first`,
      );
    }
    const names = chosen === undefined ? [...graph.keys()] : [chosen];
    const range = [interval.start.getTime(), interval.end.getTime()] as const;
    const tasks = auditTasksOf(graph, names, range, randomUUID(), Date.now());
    return withEngine(project, gateway, (adapter) => runAll(context, tasks, adapter));
  });

  report(context, outcomes);
}

async function runAll(
  context: CommandContext,
  tasks: readonly ModelTask[],
  adapter: Parameters<typeof runTask>[1]['adapter'],
): Promise<Map<ModelTask, TaskOutcome>> {
  const queue = new InMemoryTaskQueue();
  for (const task of tasks) queue.push(task);
  queue.close();
  const outcomes = new Map<ModelTask, TaskOutcome>();
  const byId = new Map(tasks.map((task) => [task.id, task]));
  const source: TaskSource = {
    claim: (maxTasks, signal) => queue.claim(maxTasks, signal),
    complete: async (taskId, outcome) => {
      const task = byId.get(taskId);
      if (task !== undefined) outcomes.set(task, outcome);
    },
  };
  const parser = await createSqlParser();
  try {
    await withInterrupt((signal) =>
      runTaskLoop(source, {
        slots: 4,
        signal,
        logger: context.logger,
        runTask: (task, taskSignal) => runTask(task, { adapter, parser }, taskSignal),
      }),
    );
  } finally {
    await parser.close();
  }
  return outcomes;
}

function report(context: CommandContext, outcomes: ReadonlyMap<ModelTask, TaskOutcome>): void {
  const out = context.output.stdout;
  if (outcomes.size === 0) {
    out.write('No audits to run: the chosen models declare none.\n');
    return;
  }
  let failed = 0;
  for (const [task, outcome] of outcomes) {
    if (outcome.status === 'failed') {
      failed += 1;
      out.write(`failed   ${outcome.error.message}\n`);
    } else if (outcome.audit !== undefined && outcome.audit.failedRows > 0) {
      out.write(`warning  ${describeAuditFindings(task, outcome.audit)} (non-blocking)\n`);
    } else {
      out.write(`ok       ${task.modelName} ${task.audit?.name ?? ''}\n`);
    }
  }
  if (failed > 0) {
    throw new SluiceError(
      'audit_failed',
      `${failed} of ${outcomes.size} audits failed; ` +
        'the lines above name each audit, model and interval',
    );
  }
}
