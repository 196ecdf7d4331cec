import type { StateStore } from '../../../src/state/state-store.js';
import type { AttemptUsage, CostRates } from '../../../src/state/tasks/attempt-pricing.js';
import { claimTasks } from '../../../src/state/tasks/claim-tasks.js';
import { completeTask } from '../../../src/state/tasks/complete-task.js';
import { enqueueTasks, type NewQueuedTask } from '../../../src/state/tasks/enqueue-tasks.js';
import { queuedTask, RETRY, SUCCEEDED } from './queue-fixture.js';

/** Priced attempts for the cost tests: rates, and one call that works a task to its completion. */

export const T0 = 1_800_000_000_000;
export const HOUR_MS = 3_600_000;

export const RATES: CostRates = new Map([
  ['warehouse', { kind: 'per_compute_hour', amount: 3.2, currency: 'USD' }],
  ['lake', { kind: 'per_tb_scanned', amount: 5, currency: 'USD' }],
  ['eu', { kind: 'per_compute_hour', amount: 2, currency: 'EUR' }],
]);

/** One attempt to work: where the task belongs, what it ran on, and what it used. */
export type Attempt = {
  readonly id: string;
  readonly runId: string;
  readonly environment: string;
  readonly gateway: string;
  readonly modelName: string;
  readonly versionId?: string;
  readonly usage: AttemptUsage;
  readonly nowMs?: number;
};

/** Queues a task, claims it and completes it as succeeded, priced at the test's rates. */
export async function runAttempt(store: StateStore, attempt: Attempt): Promise<void> {
  const nowMs = attempt.nowMs ?? T0;
  const task: NewQueuedTask = {
    ...queuedTask(attempt.id, {
      runId: attempt.runId,
      environment: attempt.environment,
      gateway: attempt.gateway,
      modelName: attempt.modelName,
    }),
    ...(attempt.versionId === undefined ? {} : { versionId: attempt.versionId }),
  };
  await enqueueTasks(store, [task], nowMs);
  const [claimed] = await claimTasks(store, {
    owner: 'ex-a',
    executorId: 'ex-a-1',
    pools: ['run'],
    maxTasks: 1,
    nowMs,
    leaseMs: 60_000,
  });
  await completeTask(store, {
    taskId: attempt.id,
    owner: 'ex-a',
    epoch: claimed?.epoch ?? 0,
    nowMs,
    idempotencyKey: `${attempt.id}-done`,
    retry: RETRY,
    pricing: { usage: attempt.usage, rates: RATES },
    ...SUCCEEDED,
  });
}
