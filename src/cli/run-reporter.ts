import type { Task } from '../protocol/task.js';
import type { ModelOutcome, ModelResult, RunEvent } from '../scheduler/runs/run-coordinator.js';
import type { Output } from './output.js';
import { formatRange, rangeJson } from './time-ranges.js';

/** How a run is shown: for a person (progress, then a summary) or one JSON document. */
export type RunFormat = 'text' | 'json';

export const RUN_FORMATS: readonly RunFormat[] = ['text', 'json'];

/** What the summary says about the whole run. */
export type RunReport = {
  readonly runId: string;
  readonly environment: string;
  readonly startedAtMs: number;
  readonly durationMs: number;
  readonly models: readonly ModelResult[];
};

/**
 * Reports a run as it goes. On a terminal one status line is rewritten in place, and failures
 * and waits are printed as they happen; elsewhere each finished task is one plain line. JSON
 * prints nothing until the end.
 */
export class RunReporter {
  readonly #isTerminal: boolean;
  readonly #running = new Map<string, string>();
  #finishedModels = 0;
  #finishedTasks = 0;
  #hasStatusLine = false;

  constructor(
    private readonly output: Output,
    private readonly format: RunFormat,
    private readonly modelCount: number,
  ) {
    this.#isTerminal = (output.stderr as { isTTY?: boolean }).isTTY === true;
  }

  /** Handles one event of the run. */
  onEvent(event: RunEvent): void {
    if (this.format === 'json') return;
    switch (event.type) {
      case 'task_started':
        this.#running.set(event.task.id, describeTask(event.task));
        break;
      case 'task_finished':
        this.#running.delete(event.task.id);
        this.#finishedTasks += 1;
        if (!this.#isTerminal) this.#line(taskLine(event));
        else if (event.outcome.status === 'failed') this.#line(taskLine(event));
        break;
      case 'model_waiting':
        this.#line(
          `${event.modelName}: waiting for another run (${event.holder.owner}) that is ` +
            'evaluating the same version',
        );
        break;
      case 'model_finished':
        this.#finishedModels += 1;
        break;
      case 'audit_warning':
        this.#line(`warning: ${event.message}`);
        break;
    }
    this.#status();
  }

  /** Prints the summary (or the JSON document) once the run is over. */
  finish(report: RunReport): void {
    this.#clearStatus();
    if (this.format === 'json') {
      this.output.stdout.write(`${JSON.stringify(reportJson(report), null, 2)}\n`);
      return;
    }
    const out = this.output.stdout;
    const counts = countOutcomes(report.models);
    out.write(
      `Run of ${report.environment} finished in ${seconds(report.durationMs)}: ` +
        `${counts.succeeded} evaluated, ${counts.up_to_date} up to date, ` +
        `${counts.failed} failed, ${counts.skipped} skipped\n`,
    );
    for (const model of report.models) {
      if (model.outcome === 'failed') {
        out.write(`  failed   ${model.modelName}: ${model.error?.message ?? 'unknown error'}\n`);
      } else if (model.outcome === 'skipped') {
        out.write(`  skipped  ${model.modelName}: ${skipReason(model)}\n`);
      }
      for (const warning of model.warnings) out.write(`  warning  ${warning}\n`);
    }
  }

  #line(text: string): void {
    this.#clearStatus();
    this.output.stderr.write(`${text}\n`);
  }

  #status(): void {
    if (!this.#isTerminal || this.format === 'json') return;
    const running = [...this.#running.values()].slice(0, 2).join(', ');
    const text =
      `${this.#finishedModels}/${this.modelCount} models, ` +
      `${this.#finishedTasks} ${this.#finishedTasks === 1 ? 'task' : 'tasks'} done` +
      (running === '' ? '' : `; running ${running}`);
    this.output.stderr.write(`\r\u001b[K${text.slice(0, 160)}`);
    this.#hasStatusLine = true;
  }

  #clearStatus(): void {
    if (!this.#hasStatusLine) return;
    this.output.stderr.write('\r\u001b[K');
    this.#hasStatusLine = false;
  }
}

function describeTask(task: Task): string {
  if (task.kind === 'promote') return `promote ${task.environment} (${task.views.length} views)`;
  if (task.kind === 'cleanup') return `cleanup (${task.drops.length} objects)`;
  if (task.kind === 'audit') {
    const interval = task.interval;
    const range =
      interval === undefined ? '' : ` ${formatRange([interval.startMs, interval.endMs])}`;
    return `${task.modelName} audit ${task.audit?.name ?? ''}${range}`;
  }
  const interval = task.interval;
  if (interval === undefined) return `${task.modelName} (${task.kind})`;
  return `${task.modelName} ${formatRange([interval.startMs, interval.endMs])}`;
}

function taskLine(event: Extract<RunEvent, { type: 'task_finished' }>): string {
  const { task, outcome } = event;
  const what = task.kind === 'create' ? `${task.modelName} created` : describeTask(task);
  if (outcome.status === 'failed') return `failed ${what}: ${outcome.error.message}`;
  const count = outcome.rowsWritten;
  const rows =
    task.kind === 'evaluate'
      ? `, ${count.toLocaleString('en')} ${count === 1 ? 'row' : 'rows'}`
      : '';
  return `ok ${what} (${seconds(outcome.durationMs)}${rows})`;
}

function skipReason(model: ModelResult): string {
  const because = model.skippedBecause ?? 'an upstream model failed';
  return because.startsWith('the run') ? because : `upstream model '${because}' failed`;
}

function countOutcomes(models: readonly ModelResult[]): Record<ModelOutcome, number> {
  const counts: Record<ModelOutcome, number> = {
    succeeded: 0,
    up_to_date: 0,
    failed: 0,
    skipped: 0,
  };
  for (const model of models) counts[model.outcome] += 1;
  return counts;
}

function reportJson(report: RunReport) {
  return {
    runId: report.runId,
    environment: report.environment,
    startedAt: new Date(report.startedAtMs).toISOString(),
    durationMs: report.durationMs,
    counts: countOutcomes(report.models),
    models: report.models.map((model) => ({
      model: model.modelName,
      outcome: model.outcome,
      tasks: model.tasks,
      rowsWritten: model.rowsWritten,
      evaluated: model.evaluated.map(rangeJson),
      ...(model.error === undefined ? {} : { error: model.error }),
      ...(model.skippedBecause === undefined ? {} : { skippedBecause: model.skippedBecause }),
      ...(model.warnings.length === 0 ? {} : { warnings: model.warnings }),
    })),
  };
}

function seconds(durationMs: number): string {
  return `${(durationMs / 1000).toFixed(1)} s`;
}
