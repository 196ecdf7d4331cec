import { expect } from 'vitest';
import { SluiceError } from '../../../src/core/errors.js';
import { openStateStore } from '../../../src/state/open-state-store.js';
import type { StateStore } from '../../../src/state/state-store.js';
import type { KeyRing, StateLocation } from '../../../src/state/state-types.js';
import { readTaskRecord, type TaskRecord } from '../../../src/state/tasks/task-queries.js';
import { FINISHED_STATUSES } from '../../../src/state/tasks/task-rows.js';
import type { QueueModel, Refusal } from './queue-model.js';

/**
 * The system under test of the queue's property tests: one real store, which a Scheduler restart
 * closes and opens again on the same location, and the checks run against it after every command.
 */
export class QueueSystem {
  /** The highest epoch read so far of each task. */
  private readonly epochsSeen = new Map<string, number>();

  private constructor(
    public store: StateStore,
    private readonly location: StateLocation,
    private readonly keyRing: KeyRing,
  ) {}

  static async open(location: StateLocation, keyRing: KeyRing): Promise<QueueSystem> {
    const store = await openStateStore({ location, keyRing, shouldMigrate: true });
    return new QueueSystem(store, location, keyRing);
  }

  /** Closes the store and opens it again, as a restarted Scheduler does. */
  async restart(): Promise<void> {
    await this.store.close();
    this.store = await openStateStore({
      location: this.location,
      keyRing: this.keyRing,
      shouldMigrate: true,
    });
  }

  close(): Promise<void> {
    return this.store.close();
  }

  /** Reads every task and checks the invariants and the model against what the store holds. */
  async check(model: QueueModel): Promise<TaskRecord[]> {
    const taskIds = [...model.tasks.keys()];
    const records = await Promise.all(taskIds.map((taskId) => readTaskRecord(this.store, taskId)));
    for (const record of records) {
      this.checkEpochRises(record);
      checkAttempts(record);
      checkOneLiveLease(model, record);
      checkMatchesModel(model, record);
    }
    return records;
  }

  private checkEpochRises(record: TaskRecord): void {
    const seen = this.epochsSeen.get(record.id) ?? 0;
    expect(record.epoch, `epoch of ${record.id}`).toBeGreaterThanOrEqual(seen);
    this.epochsSeen.set(record.id, record.epoch);
  }
}

/** What a call came to: its answer, or the code of the SluiceError it was refused with. */
export type Settled<T> = { readonly answer: T } | { readonly refused: string };

export async function settle<T>(promise: Promise<T>): Promise<Settled<T>> {
  try {
    return { answer: await promise };
  } catch (error) {
    if (error instanceof SluiceError) return { refused: error.code };
    throw error;
  }
}

/** The settled value a call must come to: the refusal when there is one, else the answer. */
export function expectedSettled<T>(refusal: Refusal | undefined, answer: () => T): Settled<T> {
  return refusal === undefined ? { answer: answer() } : { refused: refusal };
}

function checkAttempts(record: TaskRecord): void {
  expect(record.attempt, `attempt of ${record.id}`).toBeGreaterThanOrEqual(0);
  expect(record.attempt, `attempt of ${record.id}`).toBeLessThanOrEqual(record.maxAttempts);
  if (record.status === 'leased') expect(record.attempt).toBeGreaterThanOrEqual(1);
}

/**
 * A leased task is believed held, at its current epoch, by exactly its owner; every other
 * belief about it names an older epoch or another client, so the queue must refuse it.
 */
function checkOneLiveLease(model: QueueModel, record: TaskRecord): void {
  const live = model.beliefs.filter(
    (belief) =>
      belief.taskId === record.id &&
      record.status === 'leased' &&
      belief.owner === record.owner &&
      belief.epoch === record.epoch,
  );
  expect(live.length, `live leases of ${record.id}`).toBe(record.status === 'leased' ? 1 : 0);
}

/** The store agrees with the model; who held a finished task last is left to the store. */
function checkMatchesModel(model: QueueModel, record: TaskRecord): void {
  const task = model.task(record.id);
  const isFinished = FINISHED_STATUSES.includes(task.status);
  expect(record, `task ${record.id}`).toMatchObject({
    status: task.status,
    attempt: task.attempt,
    maxAttempts: task.maxAttempts,
    epoch: task.epoch,
    ...(isFinished ? {} : { owner: task.owner }),
    leaseExpiresAtMs: task.leaseExpiresAtMs,
    readyAtMs: task.readyAtMs,
  });
  expect(record.lastReport, `last report of ${record.id}`).toEqual(task.lastReport);
}
