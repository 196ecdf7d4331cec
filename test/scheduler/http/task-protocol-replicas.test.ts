import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '../../../src/protocol/roles.js';
import { createClient } from '../../../src/scheduler/auth/client-registry.js';
import { openStateStore } from '../../../src/state/open-state-store.js';
import type { StateStore } from '../../../src/state/state-store.js';
import { enqueueTasks } from '../../../src/state/tasks/enqueue-tasks.js';
import { readTaskRecord } from '../../../src/state/tasks/task-queries.js';
import {
  connectProtocolClient,
  countLines,
  helloBody,
  logLineAfter,
  type ProtocolClient,
} from '../../helpers/protocol-client.js';
import { type SchedulerProcess, startSchedulerProcess } from '../../helpers/scheduler-process.js';
import {
  stateBackendsUnderTest,
  type TestStateLocation,
  testKeyRing,
  testStateKey,
} from '../../helpers/state-backends.js';
import { queuedTask } from '../../state/tasks/queue-fixture.js';

/**
 * Two `sluice scheduler` processes on one PostgreSQL schema (the compiled CLI: build first):
 * concurrent Executors on both never get the same task, and a claim waiting on one Scheduler is
 * woken by work made ready through the other, which only LISTEN/NOTIFY can carry.
 */

const TASKS = 300;
const EXECUTORS_PER_SCHEDULER = 3;
const SUCCEEDED = { status: 'succeeded', rows_written: 1, duration_ms: 1 } as const;

type Worker = { readonly protocol: ProtocolClient; readonly executorId: string };

type Handed = { readonly id: string; readonly attempt: number; readonly executorId: string };

const postgres = stateBackendsUnderTest().find((backend) => backend.name === 'postgres');

describe.skipIf(postgres === undefined || postgres.skipReason !== '')(
  'two Scheduler processes on one PostgreSQL schema',
  () => {
    let location: TestStateLocation | undefined;
    let store: StateStore | undefined;
    let projectDir: string | undefined;
    const schedulers: SchedulerProcess[] = [];

    beforeAll(async () => {
      const key = testStateKey('k1');
      location = await postgres?.create();
      if (location?.location.backend !== 'postgres') throw new Error('no PostgreSQL location');
      store = await openStateStore({
        location: location.location,
        keyRing: testKeyRing(key),
        shouldMigrate: true,
      });
      projectDir = await mkdtemp(join(tmpdir(), 'sluice-replicas-'));

      const stateUrl = new URL(location.location.url);
      stateUrl.searchParams.set('schema', location.location.schema);
      for (let index = 0; index < 2; index += 1) {
        schedulers.push(
          await startSchedulerProcess({
            projectDir,
            stateUrl: stateUrl.href,
            stateKeys: `${key.id}:${key.secret.toString('base64')}`,
            extraArgs: ['--log-level', 'debug'],
          }),
        );
      }
    }, 60_000);

    afterAll(async () => {
      for (const scheduler of schedulers) expect(await scheduler.stop()).toBe(0);
      await store?.close();
      await location?.cleanup();
      if (projectDir !== undefined) await rm(projectDir, { recursive: true, force: true });
    });

    /** A client with `roles`, made in the shared store, that said hello on `scheduler`. */
    async function worker(
      scheduler: SchedulerProcess,
      clientId: string,
      roles: readonly Role[],
      pools: readonly string[],
    ): Promise<Worker> {
      if (store === undefined) throw new Error('the store is not open');
      const issued = await createClient(store, { clientId, roles, actor: 'test-setup' });
      const protocol = await connectProtocolClient(scheduler.url, clientId, issued.secret);
      const executorId = `${clientId}-1`;
      expect((await protocol.hello(helloBody(executorId, pools))).status).toBe(200);
      return { protocol, executorId };
    }

    /** Claims and completes until `handed` holds `total` tasks. */
    async function drain(executor: Worker, handed: Handed[], total: number): Promise<void> {
      while (handed.length < total) {
        const claim = await executor.protocol.claim({
          executor_id: executor.executorId,
          max_tasks: 4,
          wait_sec: 1,
        });
        if (claim.status === 204) continue;
        expect(claim.status).toBe(200);
        for (const task of claim.body.tasks) {
          handed.push({ id: task.id, attempt: task.attempt, executorId: executor.executorId });
          const body = { epoch: task.epoch, outcome: SUCCEEDED };
          const done = await executor.protocol.complete(task.id, body, `${task.id}/${task.epoch}`);
          expect(done.body.task_status).toBe('succeeded');
        }
      }
    }

    it('hands each task to exactly one Executor, across both Schedulers', async () => {
      const workers: Worker[] = [];
      for (const [index, scheduler] of schedulers.entries()) {
        for (let slot = 0; slot < EXECUTORS_PER_SCHEDULER; slot += 1) {
          workers.push(
            await worker(scheduler, `runner-${index}-${slot}`, ['executor:run'], ['run']),
          );
        }
      }
      const handed: Handed[] = [];
      const working = Promise.all(workers.map((executor) => drain(executor, handed, TASKS)));

      const ids = Array.from({ length: TASKS }, (_, index) => `task-${index}`);
      for (let start = 0; start < TASKS; start += 100) {
        const batch = ids.slice(start, start + 100).map((id) => queuedTask(id, { runId: 'many' }));
        await enqueueTasks(requireStore(store), batch, Date.now());
      }
      await working;

      expect(handed).toHaveLength(TASKS);
      expect(new Set(handed.map((task) => task.id)).size).toBe(TASKS);
      expect(handed.every((task) => task.attempt === 1)).toBe(true);
      for (const id of ids) {
        expect((await readTaskRecord(requireStore(store), id)).status, id).toBe('succeeded');
      }
    }, 120_000);

    it('wakes a claim waiting on one Scheduler when the other makes a task ready', async () => {
      const [first, second] = schedulers;
      if (first === undefined || second === undefined) throw new Error('two Schedulers expected');
      const planner = await worker(first, 'planner', ['executor:apply'], ['apply']);
      const runner = await worker(second, 'runner-late', ['executor:run'], ['run']);
      await enqueueTasks(
        requireStore(store),
        [
          queuedTask('upstream', { pool: 'apply', runId: 'wake' }),
          queuedTask('downstream', { pool: 'run', runId: 'wake', dependsOn: ['upstream'] }),
        ],
        Date.now(),
      );
      const upstream = await planner.protocol.claim({
        executor_id: planner.executorId,
        max_tasks: 1,
      });
      expect(upstream.body.tasks[0].id).toBe('upstream');

      const waitingBefore = countLines(second.logs, 'claim waiting');
      const waiting = runner.protocol.claim({
        executor_id: runner.executorId,
        max_tasks: 1,
        wait_sec: 20,
      });
      await logLineAfter(second.logs, 'claim waiting', waitingBefore);
      const body = { epoch: upstream.body.tasks[0].epoch, outcome: SUCCEEDED };
      const done = await planner.protocol.complete('upstream', body, 'upstream-done');
      expect(done.body.task_status).toBe('succeeded');

      const woken = await waiting;
      expect(woken.status).toBe(200);
      expect(woken.body.tasks.map((task: { id: string }) => task.id)).toEqual(['downstream']);
    }, 60_000);
  },
);

function requireStore(store: StateStore | undefined): StateStore {
  if (store === undefined) throw new Error('the store is not open');
  return store;
}
