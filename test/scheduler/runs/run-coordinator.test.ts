import { afterEach, describe, expect, it } from 'vitest';
import { SILENT_LOGGER } from '../../../src/core/logger.js';
import { runTaskLoop } from '../../../src/executor/tasks/task-loop.js';
import { loadProject } from '../../../src/project/project-loader.js';
import { snapshotsOfProject } from '../../../src/project/project-snapshots.js';
import type { Task, TaskOutcome } from '../../../src/protocol/task.js';
import { type ModelResult, RunCoordinator } from '../../../src/scheduler/runs/run-coordinator.js';
import { buildRunGraph } from '../../../src/scheduler/runs/run-graph.js';
import { InMemoryTaskQueue } from '../../../src/scheduler/runs/task-queue.js';
import { openStateStore } from '../../../src/state/open-state-store.js';
import { saveSnapshots } from '../../../src/state/snapshot-store.js';
import type { StateStore } from '../../../src/state/state-store.js';
import { readProcessedRanges } from '../../../src/state/version-intervals.js';
import {
  stateBackendsUnderTest,
  type TestStateLocation,
  testKeyRing,
  testStateKey,
} from '../../helpers/state-backends.js';
import { writeProject } from '../../helpers/temp-project.js';

/**
 * The run coordinator with the Executor's task loop, and a task runner that the test controls in
 * place of the engine (the real runner on both engines is covered by test/cli/run.test.ts).
 */

const DAILY = (name: string, reads = '', batch = 2) =>
  `MODEL (name shop.${name}, kind INCREMENTAL_BY_TIME_RANGE (time_column day, batch_size ${batch}),` +
  ` start '2024-01-01', end '2024-01-06');\nSELECT day FROM ${reads || 'raw.days'}\n`;

const NOW_MS = Date.UTC(2024, 5, 1);
const SUCCESS: TaskOutcome = { status: 'succeeded', rowsWritten: 1, durationMs: 1 };

type Runner = (task: Task, signal: AbortSignal) => Promise<TaskOutcome>;

for (const backend of stateBackendsUnderTest()) {
  describe.skipIf(backend.skipReason !== '')(`the run coordinator on ${backend.name}`, () => {
    let location: TestStateLocation | undefined;
    let store: StateStore | undefined;

    afterEach(async () => {
      await store?.close();
      await location?.cleanup();
      store = undefined;
      location = undefined;
    });

    async function run(files: Record<string, string>, runner: Runner, signal?: AbortSignal) {
      const root = await writeProject({ 'sluice.yaml': 'name: test\n', ...files });
      const project = await loadProject(root);
      const snapshots = await snapshotsOfProject(project, undefined);
      const graph = buildRunGraph(snapshots, project.dag.nodes, {
        projectName: 'test',
        gateway: 'local',
      });
      location = await backend.create();
      store = await openStateStore({
        location: location.location,
        keyRing: testKeyRing(testStateKey('k1')),
        shouldMigrate: true,
      });
      await saveSnapshots(store, [...snapshots.values()]);

      const abort = signal ?? new AbortController().signal;
      const coordinator = new RunCoordinator(store, new InMemoryTaskQueue(), graph, {
        runId: 'run',
        pool: 'run',
        nowMs: NOW_MS,
        lease: { owner: 'test/1/run', ttlMs: 30_000, pollMs: 50 },
        logger: SILENT_LOGGER,
        signal: abort,
      });
      const finished = coordinator.run();
      await runTaskLoop(coordinator, {
        slots: 4,
        signal: abort,
        logger: SILENT_LOGGER,
        runTask: runner,
      });
      const results = await finished;
      return { results, snapshots, store };
    }

    const outcomeOf = (results: readonly ModelResult[], name: string) =>
      results.find((result) => result.modelName === `shop.${name}`)?.outcome;

    it('runs independent models at the same time', async () => {
      const started = new Set<string>();
      let release: () => void = () => {};
      const bothStarted = new Promise<void>((resolve) => {
        release = resolve;
      });
      const runner: Runner = async (task) => {
        if (task.kind === 'evaluate') {
          started.add(task.modelName);
          if (started.size === 2) release();
          // Each first batch waits until the other model's first batch has started too.
          await bothStarted;
        }
        return SUCCESS;
      };

      const { results } = await run(
        { 'models/a.sql': DAILY('a'), 'models/b.sql': DAILY('b') },
        runner,
      );

      expect(results.map((result) => result.outcome)).toEqual(['succeeded', 'succeeded']);
    });

    it('hands out one batch of a model at a time, in time order, and records each', async () => {
      const handedOut: [number, number][] = [];
      let running = 0;
      let mostAtOnce = 0;
      const runner: Runner = async (task) => {
        running += 1;
        mostAtOnce = Math.max(mostAtOnce, running);
        if (task.kind === 'evaluate' && task.interval !== undefined) {
          handedOut.push([task.interval.startMs, task.interval.endMs]);
        }
        await new Promise((resolve) => setImmediate(resolve));
        running -= 1;
        return SUCCESS;
      };

      const {
        results,
        snapshots,
        store: runStore,
      } = await run({ 'models/a.sql': DAILY('a') }, runner);

      const day = (d: number) => Date.UTC(2024, 0, d);
      expect(handedOut).toEqual([
        [day(1), day(3)],
        [day(3), day(5)],
        [day(5), day(7)],
      ]);
      expect(mostAtOnce).toBe(1);
      expect(results[0]).toMatchObject({ outcome: 'succeeded', tasks: 4 });
      const versionId = `shop.a/${snapshots.get('shop.a')?.version}`;
      const processed = await readProcessedRanges(runStore, [versionId]);
      expect(processed.get(versionId)).toEqual([[day(1), day(7)]]);
    });

    it('skips the models downstream of a failure, and nothing else', async () => {
      const runner: Runner = async (task) =>
        task.kind === 'evaluate' && task.modelName === 'shop.a'
          ? {
              status: 'failed',
              error: { code: 'engine_error', message: 'boom', isRetryable: false },
              durationMs: 1,
            }
          : SUCCESS;

      const { results } = await run(
        {
          'models/a.sql': DAILY('a'),
          'models/b.sql': DAILY('b', 'shop.a'),
          'models/c.sql': DAILY('c', 'shop.b'),
          'models/d.sql': DAILY('d'),
        },
        runner,
      );

      expect(outcomeOf(results, 'a')).toBe('failed');
      expect(results.find((result) => result.modelName === 'shop.c')).toMatchObject({
        outcome: 'skipped',
        skippedBecause: 'shop.a',
      });
      expect(outcomeOf(results, 'b')).toBe('skipped');
      expect(outcomeOf(results, 'd')).toBe('succeeded');
    });

    it('ends a cancelled run: the running model fails, the waiting ones are skipped', async () => {
      const controller = new AbortController();
      const runner: Runner = (task, signal) =>
        new Promise((resolve) => {
          if (task.kind === 'create') {
            resolve(SUCCESS);
            return;
          }
          const cancelled = () =>
            resolve({
              status: 'failed',
              error: { code: 'query_cancelled', message: 'cancelled', isRetryable: false },
              durationMs: 1,
            });
          // The run is interrupted while this batch runs; the batch ends when it sees the signal.
          signal.addEventListener('abort', cancelled, { once: true });
          controller.abort();
        });

      const { results } = await run(
        { 'models/a.sql': DAILY('a'), 'models/b.sql': DAILY('b', 'shop.a') },
        runner,
        controller.signal,
      );

      expect(outcomeOf(results, 'a')).toBe('failed');
      expect(results.find((result) => result.modelName === 'shop.b')).toMatchObject({
        outcome: 'skipped',
        skippedBecause: 'the run was cancelled',
      });
    });
  });
}
