import { expect } from 'vitest';
import { claimTasks } from '../../../src/state/tasks/claim-tasks.js';
import { completeTask } from '../../../src/state/tasks/complete-task.js';
import { enqueueTasks } from '../../../src/state/tasks/enqueue-tasks.js';
import {
  extendLeasesAfterRestart,
  reapExpiredLeases,
} from '../../../src/state/tasks/reap-tasks.js';
import { heartbeatTask, releaseTask } from '../../../src/state/tasks/task-leases.js';
import { failed, queuedTask, RETRY, SUCCEEDED } from './queue-fixture.js';
import {
  type AcceptedCompletion,
  type Hold,
  LEASE_MS,
  type ModelExecutor,
  type Outcome,
  type QueueModel,
  type TaskSpec,
} from './queue-model.js';
import { expectedSettled, type QueueSystem, settle } from './queue-system.js';

/**
 * The calls the property tests make, each on the store and on the model at once, with the store's
 * answer checked against the model's: the commands are built from these, and so is the drain.
 */

export async function enqueueStep(model: QueueModel, system: QueueSystem, specs: TaskSpec[]) {
  const tasks = model.enqueue(specs).map((task) =>
    queuedTask(task.id, {
      pool: task.pool,
      priority: task.priority,
      maxAttempts: task.maxAttempts,
      ...(task.dependsOn.length === 0 ? {} : { dependsOn: task.dependsOn }),
    }),
  );
  await enqueueTasks(system.store, tasks, model.nowMs);
}

/** Claims for `executor` and checks that it got exactly what the model leased, in order. */
export async function claimStep(
  model: QueueModel,
  system: QueueSystem,
  executor: ModelExecutor,
  maxTasks: number,
): Promise<Hold[]> {
  const claimed = await claimTasks(system.store, {
    owner: executor.owner,
    executorId: `${executor.owner}-1`,
    pools: executor.pools,
    maxTasks,
    nowMs: model.nowMs,
    leaseMs: LEASE_MS,
  });

  const expected = model.claim(executor, maxTasks).map((task) => ({
    id: task.id,
    definition: expect.objectContaining({ id: task.id, kind: 'promote', pool: task.pool }),
    attempt: task.attempt,
    epoch: task.epoch,
    leaseExpiresAtMs: task.leaseExpiresAtMs,
  }));
  expect(claimed).toEqual(expected);
  return claimed.map((task) => ({ taskId: task.id, owner: executor.owner, epoch: task.epoch }));
}

export async function heartbeatStep(model: QueueModel, system: QueueSystem, call: Hold) {
  const settled = await settle(
    heartbeatTask(system.store, { ...call, nowMs: model.nowMs }, LEASE_MS),
  );

  const refusal = model.refusalOf(call);
  expect(settled, `heartbeat ${describeHold(call)}`).toEqual(
    expectedSettled(refusal, () => ({
      leaseExpiresAtMs: model.heartbeat(call),
      isCancelRequested: false,
    })),
  );
  if (refusal !== undefined) model.forget(call);
}

export async function releaseStep(model: QueueModel, system: QueueSystem, call: Hold) {
  const settled = await settle(releaseTask(system.store, { ...call, nowMs: model.nowMs }));

  const refusal = model.refusalOf(call);
  expect(settled, `release ${describeHold(call)}`).toEqual(
    expectedSettled(refusal, () => model.release(call)),
  );
  if (refusal !== undefined) model.forget(call);
}

/** Completes with a fresh key; an accepted completion is kept for later replays. */
export async function completeStep(
  model: QueueModel,
  system: QueueSystem,
  call: Hold,
  outcome: Outcome,
  random: number,
) {
  const key = model.newKey();
  const { verdict, report } = reportOf(outcome, key);
  const settled = await settle(
    completeTask(system.store, {
      ...call,
      nowMs: model.nowMs,
      idempotencyKey: key,
      verdict,
      report,
      retry: RETRY,
      random: () => random,
    }),
  );

  const refusal = model.refusalOf(call);
  const expected = expectedSettled(refusal, () => model.complete(call, outcome, random, report));
  expect(settled, `complete ${describeHold(call)} as ${outcome}`).toEqual(expected);
  if ('answer' in expected) model.completions.push({ ...call, key, answer: expected.answer });
  if (refusal !== undefined) model.forget(call);
}

/**
 * Sends an accepted completion's key again, with any outcome: its own client must get the first
 * answer whatever happened since; another client sending it is refused as any stranger is.
 */
export async function replayStep(
  model: QueueModel,
  system: QueueSystem,
  first: AcceptedCompletion,
  owner: string,
  outcome: Outcome,
) {
  const call = { taskId: first.taskId, owner, epoch: first.epoch };
  const settled = await settle(
    completeTask(system.store, {
      ...call,
      ...reportOf(outcome, first.key),
      nowMs: model.nowMs,
      idempotencyKey: first.key,
      retry: RETRY,
    }),
  );

  const refusal = owner === first.owner ? undefined : model.refusalOf(call);
  expect(settled, `replay of ${first.key} by ${owner}`).toEqual(
    expectedSettled(refusal, () => first.answer),
  );
}

/** Moves the clock on, then reaps when asked. */
export async function advanceStep(
  model: QueueModel,
  system: QueueSystem,
  deltaMs: number,
  random: number | undefined,
) {
  model.nowMs += deltaMs;
  if (random === undefined) return;
  const reaped = await reapExpiredLeases(system.store, model.nowMs, RETRY, () => random);
  expect(reaped, `reap at +${deltaMs} ms`).toEqual(model.reap(random));
}

/** Closes the store, opens it again and extends the leases, as a Scheduler does on start. */
export async function restartStep(model: QueueModel, system: QueueSystem) {
  await system.restart();
  const extended = await extendLeasesAfterRestart(system.store, model.nowMs, LEASE_MS);
  expect(extended, 'leases extended after the restart').toBe(model.restart());
}

function reportOf(outcome: Outcome, key: string) {
  const reported = outcome === 'succeeded' ? SUCCEEDED : failed(outcome === 'retryable');
  return { verdict: reported.verdict, report: { ...reported.report, key } };
}

export function describeHold(call: Hold): string {
  return `${call.taskId}@${call.epoch} by ${call.owner}`;
}
