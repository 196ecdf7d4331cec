import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { EngineAdapter } from '../../../src/engines/engine-adapter.js';
import { IDEMPOTENCY_KEY_HEADER } from '../../../src/protocol/task-completion-api.js';
import { type ExecutorProcess, startExecutorProcess } from '../../helpers/executor-process.js';
import {
  callApi,
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
  FAULT_WAIT,
  faultSchema,
  logLines,
  openTestEngine,
  SHORT_TIMINGS,
  slowProjectFiles,
  tableRows,
  waitForRunSucceeded,
} from './fault-setup.js';

/**
 * An Executor paused with SIGSTOP past its lease while its SQL runs, then resumed with SIGCONT
 * (build first: the Executors run the compiled CLI). Meanwhile the lease expires and another
 * Executor runs the task to completion. Once resumed, the paused one learns from its heartbeat
 * that the lease is lost, cancels its SQL and discards its output; a completion at its old
 * epoch is refused, and the table holds each row once.
 *
 * The model sleeps for as many seconds as a control table says when its query starts: long for
 * the first attempt, none for the second, so that the first attempt's SQL is still running when
 * its Executor resumes.
 *
 * A pause that lands after the first attempt's statements ended but before its COMMIT lets the
 * COMMIT go out before the heartbeat's 409 comes back; both attempts then write the interval.
 * The lock of the write transaction (src/executor/materialize/postgres-interval-lock.ts) lets
 * the later attempt end the earlier one's session, then replace any rows it committed:
 * test/executor/materialize/concurrent-attempts.test.ts covers that case on the engine.
 */

const DAYS = 2;
const sqlite = stateBackendsUnderTest().find((backend) => backend.name === 'sqlite');
const postgres = stateBackendsUnderTest().find((backend) => backend.name === 'postgres');

describe.skipIf(sqlite === undefined || postgres?.skipReason !== '')(
  'an Executor paused past its lease',
  () => {
    const schema = faultSchema('p');
    const control = `${schema}_ctl.delay`;
    let root: string;
    let scheduler: TestScheduler;
    let deployer: TestClient;
    let engine: EngineAdapter | undefined;
    const executors: ExecutorProcess[] = [];

    const startExecutor = async (clientId: string) => {
      const client = await createTestClient(scheduler, clientId, [
        'executor:run',
        'executor:apply',
      ]);
      const executor = startExecutorProcess({
        projectDir: root,
        url: scheduler.url,
        clientId,
        secret: client.secret,
        args: ['--slots', '1', '--id', clientId, '--log-level', 'debug'],
      });
      executors.push(executor);
      return { executor, client };
    };
    /** Backends (other than this test's) running the model's sleeping query. */
    const sleepingQueries = async () => {
      const found = await engine?.query(
        "SELECT pid FROM pg_stat_activity WHERE state = 'active' AND pid <> pg_backend_pid() " +
          'AND position($1 in query) > 0',
        [control],
      );
      return found?.rows.length ?? 0;
    };

    beforeAll(async () => {
      if (sqlite === undefined) return;
      const pause = `(SELECT pg_sleep(seconds) FROM ${control}) IS NOT NULL`;
      root = await writeProject(slowProjectFiles({ schema, days: DAYS, batchSize: DAYS, pause }));
      engine = await openTestEngine(root);
      await engine.execute(`CREATE SCHEMA ${schema}_ctl`);
      await engine.execute(`CREATE TABLE ${control} AS SELECT 300.0 AS seconds`);
      scheduler = await startTestScheduler(sqlite, SHORT_TIMINGS);
      deployer = await createTestClient(scheduler, 'deployer', ['deployer']);
    });

    afterAll(async () => {
      for (const executor of executors) await executor.stop('SIGKILL');
      // A sleeping backend outlives its killed client; end it so the schemas can be dropped.
      await engine?.execute(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity ' +
          'WHERE pid <> pg_backend_pid() AND position($1 in query) > 0',
        [control],
      );
      await dropSchemas(engine, schema);
      await scheduler?.close();
      if (root !== undefined) await rm(root, { recursive: true, force: true });
    });

    it('loses its lease, cancels its SQL and has its late completion refused', async () => {
      const paused = await startExecutor('runner-paused');
      await paused.executor.waitForLog('started');
      const runId = await applyThroughApi(scheduler.url, deployer.token, root);
      await paused.executor.waitForLog('task started', (line) => line.kind === 'evaluate');
      const taskId = String(logLines(paused.executor, 'task started').at(-1)?.taskId);
      await vi.waitFor(async () => expect(await sleepingQueries()).toBe(1), FAULT_WAIT);

      await engine?.execute(`UPDATE ${control} SET seconds = 0`);
      paused.executor.signal('SIGSTOP');
      const other = await startExecutor('runner-other');
      await waitForRunSucceeded(scheduler.url, deployer.token, runId);
      paused.executor.signal('SIGCONT');

      const isTask = (line: Record<string, unknown>) => line.taskId === taskId;
      await paused.executor.waitForLog('task lease lost; its output is discarded', isTask);
      await paused.executor.waitForLog(
        'task ended',
        (line) => isTask(line) && line.as === 'discarded',
      );
      await vi.waitFor(async () => expect(await sleepingQueries()).toBe(0), FAULT_WAIT);
      expect(logLines(other.executor, 'task completed').filter(isTask)).toHaveLength(1);

      const attempts = await scheduler.store.db
        .selectFrom('sluice_task_attempts')
        .select(['owner', 'epoch', 'ended_as', 'completion_key'])
        .where('task_id', '=', taskId)
        .orderBy('epoch')
        .execute();
      expect(attempts.map((row) => [row.owner, row.ended_as])).toEqual([
        ['runner-paused', 'expired'],
        ['runner-other', 'completed'],
      ]);
      const late = await callApi(scheduler, `/v1/tasks/${taskId}/complete`, {
        token: paused.client.token,
        headers: { [IDEMPOTENCY_KEY_HEADER]: 'late-completion' },
        json: {
          epoch: Number(attempts[0]?.epoch),
          outcome: { status: 'succeeded', rows_written: DAYS, duration_ms: 1 },
        },
      });
      expect(late.status).toBe(409);
      const task = await callApi(scheduler, `/v1/tasks/${taskId}`, { token: deployer.token });
      expect(task.json.task).toMatchObject({ status: 'succeeded', attempt: 2 });
      expect(await tableRows(engine as EngineAdapter, schema)).toEqual(expectedRows(DAYS));
    }, 90_000);
  },
);
