import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { TaskRecord } from '../../../src/state/tasks/task-queries.js';
import { FINISHED_STATUSES, type QueuedTaskStatus } from '../../../src/state/tasks/task-rows.js';
import { stateBackendsUnderTest, testKeyRing, testStateKey } from '../../helpers/state-backends.js';
import { queueCommands } from './queue-commands.js';
import { RETRY } from './queue-fixture.js';
import { EXECUTORS, LEASE_MS, QueueModel } from './queue-model.js';
import { advanceStep, claimStep, completeStep } from './queue-steps.js';
import { QueueSystem } from './queue-system.js';

/**
 * Random sequences of enqueues, claims by three Executors, heartbeats, completions (fresh, stale,
 * replayed, from strangers), releases, clock steps with reaping, and Scheduler restarts, run on a
 * real store and on a reference model. After every command the store must agree with the model,
 * each leased task must be believed held by its owner alone at its epoch, epochs never fall and
 * attempts stay within their maximum; every call is answered, or refused with the code the
 * fencing rules give. At the end, claiming with every pool and completing what is claimed must
 * finish every task.
 */

const ring = testKeyRing(testStateKey('k1'));

/** Runs per backend: opening a PostgreSQL store costs far more than a SQLite one. */
const RUNS = { sqlite: 30, postgres: 15 } as const;
const MAX_COMMANDS = 60;

/** How long one backend's property may run, shrinking included. */
const SHRINK_LIMIT_MS = 45_000;

/** The Executor that drains the queue: it claims from both pools. */
const DRAINER = EXECUTORS[0] ?? { owner: 'ex-a', pools: ['apply', 'run'] };

const CANNOT_SUCCEED: readonly QueuedTaskStatus[] = ['failed', 'skipped', 'cancelled'];

/**
 * Lets every lease expire and every backoff pass, then claims with every pool and completes each
 * claimed task successfully until nothing more can be claimed; returns the tasks as stored.
 */
async function drain(model: QueueModel, system: QueueSystem): Promise<TaskRecord[]> {
  await advanceStep(model, system, LEASE_MS + 1, 0.5);
  for (let round = 0; round <= model.tasks.size; round += 1) {
    await advanceStep(model, system, RETRY.maxDelayMs, 0.5);
    const claimed = await claimStep(model, system, DRAINER, Math.max(1, model.tasks.size));
    if (claimed.length === 0) break;
    for (const hold of claimed) await completeStep(model, system, hold, 'succeeded', 0);
    await system.check(model);
  }
  return system.check(model);
}

/** Every task finished; exactly those with an upstream task that cannot succeed were skipped. */
function checkDrained(model: QueueModel, records: readonly TaskRecord[]): void {
  const statusOf = new Map(records.map((record) => [record.id, record.status]));
  for (const record of records) {
    expect(FINISHED_STATUSES, `status of ${record.id}`).toContain(record.status);
    const upstream = model.task(record.id).dependsOn.map((id) => statusOf.get(id));
    const isDoomed = upstream.some((status) => status && CANNOT_SUCCEED.includes(status));
    expect(record.status === 'skipped', `${record.id} skipped after ${upstream}`).toBe(isDoomed);
  }
}

for (const backend of stateBackendsUnderTest()) {
  describe.skipIf(backend.skipReason !== '')(`the task queue on ${backend.name}`, () => {
    it(
      'keeps one live lease per task, fences stale calls, replays completions and drains',
      async () => {
        const property = fc.asyncProperty(queueCommands(MAX_COMMANDS), async (commands) => {
          const test = await backend.create();
          const system = await QueueSystem.open(test.location, ring);
          try {
            const model = new QueueModel();
            await fc.asyncModelRun(() => ({ model, real: system }), commands);
            checkDrained(model, await drain(model, system));
          } finally {
            await system.close();
            await test.cleanup();
          }
        });
        // The limit only matters when a failure shrinks for long: fast-check then reports the
        // smallest counterexample found so far, with its seed, before the test's own timeout.
        const plugins = [fc.interruptAfterTimeLimit(SHRINK_LIMIT_MS)];
        await fc.assert(property, { numRuns: RUNS[backend.name], plugins });
      },
      2 * SHRINK_LIMIT_MS,
    );
  });
}
