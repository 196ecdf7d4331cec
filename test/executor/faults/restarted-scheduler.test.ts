import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { EngineAdapter } from '../../../src/engines/engine-adapter.js';
import { createClient } from '../../../src/scheduler/auth/client-registry.js';
import { openStateStore } from '../../../src/state/open-state-store.js';
import type { KeyRing } from '../../../src/state/state-types.js';
import { type ExecutorProcess, startExecutorProcess } from '../../helpers/executor-process.js';
import { type SchedulerProcess, startSchedulerProcess } from '../../helpers/scheduler-process.js';
import { requestToken } from '../../helpers/scheduler-service.js';
import {
  stateBackendsUnderTest,
  type TestStateLocation,
  testKeyRing,
  testStateKey,
} from '../../helpers/state-backends.js';
import { stateUrlOf } from '../../helpers/state-url.js';
import { writeProject } from '../../helpers/temp-project.js';
import {
  applyThroughApi,
  dropSchemas,
  expectedRows,
  FAULT_WAIT,
  faultSchema,
  freePort,
  logLines,
  openTestEngine,
  runTasks,
  SHORT_TIMING_ARGS,
  slowProjectFiles,
  tableRows,
} from './fault-setup.js';

/**
 * The Scheduler, as a process on an SQLite state file that outlives it, killed with SIGKILL and
 * started again on the same address: once while two Executors long-poll, and once while one of
 * them runs the last task of a backfill (build first: both run the compiled CLI). The Executors
 * keep retrying and carry on without a restart, the running task's completion is accepted once,
 * and every interval is written once.
 *
 * The kill lands on the last task on purpose: the run's coordinator lives in the Scheduler
 * process and is not resumed by a restarted one (the run is abandoned after a while and its
 * intervals not yet queued are left to the cadence), so a task queued after the kill would not
 * exist. What this test checks is the queue: leases, completions and Executors across a crash.
 */

const DAYS = 4;
const sqlite = stateBackendsUnderTest().find((backend) => backend.name === 'sqlite');
const postgres = stateBackendsUnderTest().find((backend) => backend.name === 'postgres');

describe.skipIf(sqlite === undefined || postgres?.skipReason !== '')(
  'a Scheduler killed and restarted in place',
  () => {
    const schema = faultSchema('s');
    const key = testStateKey('k1');
    const keyRing: KeyRing = testKeyRing(key);
    let location: TestStateLocation | undefined;
    let root: string;
    let port: number;
    let scheduler: SchedulerProcess | undefined;
    let engine: EngineAdapter | undefined;
    const secrets = new Map<string, string>();
    const executors: ExecutorProcess[] = [];
    const exitedPids = new Set<number>();

    const startScheduler = async () => {
      scheduler = await startSchedulerProcess({
        projectDir: root,
        stateUrl: stateUrlOf((location as TestStateLocation).location),
        stateKeys: `${key.id}:${key.secret.toString('base64')}`,
        extraArgs: [...SHORT_TIMING_ARGS, '--listen', `127.0.0.1:${port}`],
      });
      return scheduler;
    };
    const restartScheduler = async () => {
      await scheduler?.kill('SIGKILL');
      return startScheduler();
    };
    const deployerToken = (url: string) =>
      requestToken(url, 'deployer', secrets.get('deployer') ?? '', undefined);
    const startExecutor = (url: string, id: string) => {
      const executor = startExecutorProcess({
        projectDir: root,
        url,
        clientId: 'runner',
        secret: secrets.get('runner') ?? '',
        args: ['--slots', '1', '--id', id, '--log-level', 'debug'],
      });
      executors.push(executor);
      void executor.exited.then(() => exitedPids.add(executor.pid));
      return executor;
    };
    const evaluateStarts = () =>
      executors.flatMap((executor) =>
        logLines(executor, 'task started').filter((line) => line.kind === 'evaluate'),
      );

    beforeAll(async () => {
      location = await sqlite?.create();
      if (location === undefined) return;
      const pause = '(SELECT pg_sleep(1)) IS NOT NULL';
      root = await writeProject(slowProjectFiles({ schema, days: DAYS, batchSize: 1, pause }));
      engine = await openTestEngine(root);
      const store = await openStateStore({
        location: location.location,
        keyRing,
        shouldMigrate: true,
      });
      try {
        for (const [clientId, roles] of [
          ['runner', ['executor:run', 'executor:apply']],
          ['deployer', ['deployer']],
        ] as const) {
          const issued = await createClient(store, { clientId, roles: [...roles], actor: 'test' });
          secrets.set(clientId, issued.secret);
        }
      } finally {
        await store.close();
      }
      port = await freePort();
    });

    afterAll(async () => {
      for (const executor of executors) await executor.stop('SIGKILL');
      await scheduler?.kill('SIGKILL');
      await dropSchemas(engine, schema);
      await location?.cleanup();
      if (root !== undefined) await rm(root, { recursive: true, force: true });
    });

    it('loses no task and accepts no completion twice, and the Executors carry on', async () => {
      const first = await startScheduler();
      const polling = [startExecutor(first.url, 'exec-a'), startExecutor(first.url, 'exec-b')];
      for (const executor of polling) await executor.waitForLog('worker running');

      // Killed while both Executors wait in a long poll.
      const second = await restartScheduler();
      expect(second.url).toBe(first.url);
      const runId = await applyThroughApi(second.url, await deployerToken(second.url), root);

      // Killed while the backfill's last task runs.
      await vi.waitFor(() => expect(evaluateStarts()).toHaveLength(DAYS), FAULT_WAIT);
      const runningTaskId = evaluateStarts().at(-1)?.taskId;
      const third = await restartScheduler();
      const token = await deployerToken(third.url);
      const tasks = await vi.waitFor(async () => {
        const listed = await runTasks(third.url, token, runId);
        expect(listed.filter((task) => task.kind === 'evaluate')).toHaveLength(DAYS);
        expect(listed.every((task) => task.status === 'succeeded')).toBe(true);
        return listed;
      }, FAULT_WAIT);
      await third.stop();
      // Its lease outlived the crash (extended on restart): it was not run a second time.
      expect(tasks.find((task) => task.id === runningTaskId)?.attempt).toBe(1);

      // The run's promotion is not queued by the restarted Scheduler: read the physical table.
      const table = await physicalTable(engine as EngineAdapter, schema);
      expect(await tableRows(engine as EngineAdapter, table)).toEqual(expectedRows(DAYS));
      const recorded = await recordedState(location as TestStateLocation, keyRing, runId);
      expect(recorded.completions).toEqual(tasks.map((task) => [task.id, 1]).sort());
      expect(recorded.days).toBe(DAYS);
      // The same processes (pids) that long-polled before the first kill are still running.
      expect(exitedPids.size).toBe(0);
      expect(evaluateStarts().every((line) => polling.some((e) => e.pid === line.pid))).toBe(true);
      for (const executor of polling) expect(logLines(executor, 'worker failed')).toEqual([]);
    }, 120_000);
  },
);

/** The model's versioned table, the one its tasks wrote. */
async function physicalTable(engine: EngineAdapter, schema: string): Promise<string> {
  const found = await engine.query(
    'SELECT table_schema AS s, table_name AS t FROM information_schema.tables ' +
      "WHERE table_schema LIKE $1 AND table_type = 'BASE TABLE'",
    [`%${schema}%`],
  );
  expect(found.rows).toHaveLength(1);
  const row = found.rows[0] ?? {};
  return `${engine.quoteIdentifier(String(row.s))}.${engine.quoteIdentifier(String(row.t))}`;
}

/** Per task of the run, how many completions were accepted; and how many days are recorded. */
async function recordedState(location: TestStateLocation, keyRing: KeyRing, runId: string) {
  const store = await openStateStore({
    location: location.location,
    keyRing,
    shouldMigrate: false,
  });
  try {
    const rows = await store.db
      .selectFrom('sluice_task_attempts')
      .select(['task_id'])
      .where('task_id', 'like', `${runId}-%`)
      .where('ended_as', '=', 'completed')
      .execute();
    const counts = new Map<string, number>();
    for (const row of rows) {
      const taskId = String(row.task_id);
      counts.set(taskId, (counts.get(taskId) ?? 0) + 1);
    }
    const ranges = await store.db
      .selectFrom('sluice_intervals')
      .select(['start_ms', 'end_ms'])
      .execute();
    const days = ranges.reduce(
      (sum, range) => sum + (Number(range.end_ms) - Number(range.start_ms)) / 86_400_000,
      0,
    );
    return { completions: [...counts.entries()].sort(), days };
  } finally {
    await store.close();
  }
}
