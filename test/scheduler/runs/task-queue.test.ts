import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { Task } from '../../../src/protocol/task.js';
import { InMemoryTaskQueue } from '../../../src/scheduler/runs/task-queue.js';

const DAY_MS = 86_400_000;

/** An evaluate task of `shop.orders` for the `index`-th day of 2024. */
function taskOf(index: number): Task {
  const startMs = Date.UTC(2024, 0, 1) + index * DAY_MS;
  return {
    id: `task-${index}`,
    runId: 'run-1',
    kind: 'evaluate',
    pool: 'run',
    modelName: 'shop.orders',
    snapshotId: 'shop.orders/aaaaaaaaaaaa/bbbbbbbbbbbb',
    versionId: 'shop.orders/aaaaaaaaaaaa',
    interval: { startMs, endMs: startMs + DAY_MS },
    executionTimeMs: startMs + DAY_MS,
    context: { projectName: 'shop', gateway: 'local', variables: {}, models: [], tables: {} },
  };
}

/** Whether the promise has settled once every pending callback and I/O turn has run. */
async function hasSettled(promise: Promise<unknown>): Promise<boolean> {
  let isSettled = false;
  promise.then(
    () => {
      isSettled = true;
    },
    () => {
      isSettled = true;
    },
  );
  await new Promise((resolve) => setImmediate(resolve));
  return isSettled;
}

describe('in-memory task queue', () => {
  it('makes a claim wait until a task is pushed, then returns it', async () => {
    const queue = new InMemoryTaskQueue();
    const claim = queue.claim(10, new AbortController().signal);

    expect(await hasSettled(claim)).toBe(false);
    queue.push(taskOf(0));

    expect(await claim).toEqual([taskOf(0)]);
    expect(queue.depth).toBe(0);
  });

  it('returns at most maxTasks tasks per claim, in push order', async () => {
    const queue = new InMemoryTaskQueue();
    const signal = new AbortController().signal;
    for (let index = 0; index < 5; index++) queue.push(taskOf(index));
    expect(queue.depth).toBe(5);

    const first = await queue.claim(2, signal);
    const second = await queue.claim(2, signal);
    const third = await queue.claim(10, signal);

    expect(first.map((task) => task.id)).toEqual(['task-0', 'task-1']);
    expect(second.map((task) => task.id)).toEqual(['task-2', 'task-3']);
    expect(third.map((task) => task.id)).toEqual(['task-4']);
    expect(queue.depth).toBe(0);
  });

  it('gives each pushed task to one waiting claim only', async () => {
    const queue = new InMemoryTaskQueue();
    const signal = new AbortController().signal;
    const claims = [queue.claim(10, signal), queue.claim(10, signal)];

    queue.push(taskOf(0));
    const settled = await Promise.all(claims.map(hasSettled));
    expect(settled.filter(Boolean)).toHaveLength(1);
    queue.push(taskOf(1));

    const results = await Promise.all(claims);
    expect(
      results
        .flat()
        .map((task) => task.id)
        .sort(),
    ).toEqual(['task-0', 'task-1']);
    expect(results.map((tasks) => tasks.length)).toEqual([1, 1]);
  });

  it('wakes every waiting claim with no tasks when closed', async () => {
    const queue = new InMemoryTaskQueue();
    const signal = new AbortController().signal;
    const claims = [queue.claim(10, signal), queue.claim(1, signal)];
    expect(await hasSettled(Promise.race(claims))).toBe(false);

    queue.close();

    expect(await Promise.all(claims)).toEqual([[], []]);
  });

  it('hands out what is left after closing, then nothing', async () => {
    const queue = new InMemoryTaskQueue();
    const signal = new AbortController().signal;
    queue.push(taskOf(0));
    queue.push(taskOf(1));

    queue.close();

    expect((await queue.claim(1, signal)).map((task) => task.id)).toEqual(['task-0']);
    expect((await queue.claim(5, signal)).map((task) => task.id)).toEqual(['task-1']);
    expect(await queue.claim(5, signal)).toEqual([]);
  });

  it('returns no tasks to a claim whose signal was already aborted, and keeps them', async () => {
    const queue = new InMemoryTaskQueue();
    queue.push(taskOf(0));

    const claimed = await queue.claim(10, AbortSignal.abort());

    expect(claimed).toEqual([]);
    expect(queue.depth).toBe(1);
  });

  it('ends a waiting claim with no tasks when its signal aborts', async () => {
    const queue = new InMemoryTaskQueue();
    const controller = new AbortController();
    const claim = queue.claim(10, controller.signal);
    expect(await hasSettled(claim)).toBe(false);

    controller.abort();

    expect(await claim).toEqual([]);
    queue.push(taskOf(0));
    expect(queue.depth).toBe(1);
  });

  it('leaves no listener on the signal once a claim returns', async () => {
    const queue = new InMemoryTaskQueue();
    const signal = new AbortController().signal;

    for (let index = 0; index < 20; index++) {
      const claim = queue.claim(1, signal);
      queue.push(taskOf(index));
      await claim;
    }

    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
  });
});
