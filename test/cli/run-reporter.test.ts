import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { RunReporter } from '../../src/cli/run-reporter.js';
import type { Task } from '../../src/protocol/task.js';

function stream(isTTY: boolean) {
  const out = new PassThrough();
  const chunks: string[] = [];
  out.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
  Object.assign(out, { isTTY });
  return { out, text: () => chunks.join('') };
}

const task: Task = {
  id: 'r-1',
  runId: 'r',
  kind: 'evaluate',
  pool: 'run',
  modelName: 'shop.orders',
  snapshotId: 'shop.orders/abc/def',
  versionId: 'shop.orders/abc',
  interval: { startMs: Date.UTC(2024, 0, 1), endMs: Date.UTC(2024, 0, 4) },
  executionTimeMs: Date.UTC(2024, 1, 1),
  context: { projectName: 'p', gateway: 'local', variables: {}, models: [], tables: {} },
};

const result = {
  modelName: 'shop.orders',
  outcome: 'succeeded' as const,
  tasks: 1,
  rowsWritten: 3,
  evaluated: [[Date.UTC(2024, 0, 1), Date.UTC(2024, 0, 4)] as const],
  error: undefined,
  skippedBecause: undefined,
  warnings: [],
};

describe('the run reporter', () => {
  it('rewrites one status line on a terminal and clears it before the summary', () => {
    const stdout = stream(true);
    const stderr = stream(true);
    const reporter = new RunReporter({ stdout: stdout.out, stderr: stderr.out }, 'text', 1);

    reporter.onEvent({ type: 'task_started', task });
    reporter.onEvent({
      type: 'task_finished',
      task,
      outcome: { status: 'succeeded', rowsWritten: 3, durationMs: 120 },
    });
    reporter.onEvent({ type: 'model_finished', result });
    reporter.finish({
      runId: 'r',
      environment: 'prod',
      startedAtMs: 0,
      durationMs: 1500,
      models: [result],
    });

    expect(stderr.text()).toContain(
      '\r\u001b[K0/1 models, 0 tasks done; running shop.orders [2024-01-01, 2024-01-04)',
    );
    expect(stderr.text()).toContain('\r\u001b[K1/1 models, 1 task done');
    expect(stderr.text().endsWith('\r\u001b[K')).toBe(true);
    expect(stdout.text()).toBe(
      'Run of prod finished in 1.5 s: 1 evaluated, 0 up to date, 0 failed, 0 skipped\n',
    );
  });

  it('prints nothing while a JSON run goes, then one document', () => {
    const stdout = stream(false);
    const stderr = stream(false);
    const reporter = new RunReporter({ stdout: stdout.out, stderr: stderr.out }, 'json', 1);

    reporter.onEvent({ type: 'task_started', task });
    reporter.finish({
      runId: 'r',
      environment: 'prod',
      startedAtMs: 0,
      durationMs: 10,
      models: [result],
    });

    expect(stderr.text()).toBe('');
    expect(JSON.parse(stdout.text())).toMatchObject({
      runId: 'r',
      counts: { succeeded: 1, failed: 0 },
      models: [{ model: 'shop.orders', evaluated: [{ start: '2024-01-01T00:00:00.000Z' }] }],
    });
  });
});
