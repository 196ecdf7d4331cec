import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineAdapter } from '../../../src/engines/engine-adapter.js';
import { type ExecutorProcess, startExecutorProcess } from '../../helpers/executor-process.js';
import {
  createTestClient,
  startTestScheduler,
  type TestClient,
  type TestScheduler,
} from '../../helpers/scheduler-service.js';
import { stateBackendsUnderTest } from '../../helpers/state-backends.js';
import { writeProject } from '../../helpers/temp-project.js';
import {
  applyThroughApi,
  dropSchemas,
  expectedRows,
  faultSchema,
  logLines,
  openTestEngine,
  runTasks,
  SHORT_TIMINGS,
  slowProjectFiles,
  tableRows,
  waitForRunSucceeded,
} from './fault-setup.js';

/**
 * An Executor killed with SIGKILL in the middle of a backfill (build first: the Executors run the
 * compiled CLI). The task it held is returned to the queue once its lease expires, another
 * Executor finishes the backfill, and the table is the one an undisturbed run writes.
 */

const DAYS = 8;
const sqlite = stateBackendsUnderTest().find((backend) => backend.name === 'sqlite');
const postgres = stateBackendsUnderTest().find((backend) => backend.name === 'postgres');

describe.skipIf(sqlite === undefined || postgres?.skipReason !== '')(
  'an Executor killed during a backfill',
  () => {
    const schema = faultSchema('k');
    let root: string;
    let scheduler: TestScheduler;
    let runner: TestClient;
    let deployer: TestClient;
    let engine: EngineAdapter | undefined;
    const executors: ExecutorProcess[] = [];

    const startExecutor = (id: string) => {
      const executor = startExecutorProcess({
        projectDir: root,
        url: scheduler.url,
        clientId: runner.clientId,
        secret: runner.secret,
        args: ['--slots', '1', '--id', id, '--log-level', 'debug'],
      });
      executors.push(executor);
      return executor;
    };

    beforeAll(async () => {
      if (sqlite === undefined) return;
      root = await writeProject(
        slowProjectFiles({
          schema,
          days: DAYS,
          batchSize: 1,
          pause: '(SELECT pg_sleep(0.3)) IS NOT NULL',
        }),
      );
      scheduler = await startTestScheduler(sqlite, SHORT_TIMINGS);
      runner = await createTestClient(scheduler, 'runner', ['executor:run', 'executor:apply']);
      deployer = await createTestClient(scheduler, 'deployer', ['deployer']);
      engine = await openTestEngine(root);
    });

    afterAll(async () => {
      for (const executor of executors) await executor.stop('SIGKILL');
      await dropSchemas(engine, schema);
      await scheduler?.close();
      if (root !== undefined) await rm(root, { recursive: true, force: true });
    });

    it('lets another Executor finish the backfill, writing the same rows as an undisturbed run', async () => {
      const first = startExecutor('exec-killed');
      await first.waitForLog('started');
      const runId = await applyThroughApi(scheduler.url, deployer.token, root);

      // Killed while it runs its third interval, after two were completed.
      const isEvaluate = (line: Record<string, unknown>) => line.kind === 'evaluate';
      await first.waitForLog('task started', (line) => {
        const started = logLines(first, 'task started').filter(isEvaluate);
        return isEvaluate(line) && started.length >= 3;
      });
      const held = logLines(first, 'task started').filter(isEvaluate).at(-1);
      await first.stop('SIGKILL');

      const second = startExecutor('exec-survivor');
      await waitForRunSucceeded(scheduler.url, deployer.token, runId);

      expect(await tableRows(engine as EngineAdapter, schema)).toEqual(expectedRows(DAYS));
      const tasks = await runTasks(scheduler.url, deployer.token, runId);
      expect(tasks.every((task) => task.status === 'succeeded')).toBe(true);
      const killedTask = tasks.find((task) => task.id === held?.taskId);
      expect(killedTask?.attempt).toBeGreaterThanOrEqual(2);
      expect(logLines(second, 'task started').some((line) => line.taskId === held?.taskId)).toBe(
        true,
      );
    }, 90_000);
  },
);
