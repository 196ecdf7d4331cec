import { describe, expect, it } from 'vitest';
import type { StateStore } from '../../../src/state/state-store.js';
import { claimTasks } from '../../../src/state/tasks/claim-tasks.js';
import { completeTask } from '../../../src/state/tasks/complete-task.js';
import { enqueueTasks } from '../../../src/state/tasks/enqueue-tasks.js';
import {
  type FoundLogLine,
  type LogSearch,
  searchTaskLogs,
} from '../../../src/state/tasks/task-log-search.js';
import { appendTaskLogs, type TaskLogLine } from '../../../src/state/tasks/task-logs.js';
import { freshStores } from '../../helpers/fresh-store.js';
import { stateBackendsUnderTest, testKeyRing, testStateKey } from '../../helpers/state-backends.js';
import { failed, queuedTask, RETRY } from './queue-fixture.js';

/**
 * Searching task logs on the state store: every attempt of a task or one, a run's tasks, by a
 * minimum level and a case-insensitive text, oldest or newest first, and paging that neither
 * repeats nor skips a line.
 */

const ring = testKeyRing(testStateKey('k1'));
const T0 = 1_800_000_000_000;

function line(level: TaskLogLine['level'], message: string, atMs = T0): TaskLogLine {
  return { atMs, level, message };
}

/** Claims the task alone (as owner `ex-a`) at `nowMs` and returns its epoch. */
async function claim(store: StateStore, nowMs: number): Promise<number> {
  const [claimed] = await claimTasks(store, {
    owner: 'ex-a',
    executorId: 'ex-a-1',
    pools: ['run'],
    maxTasks: 1,
    nowMs,
    leaseMs: 60_000,
  });
  if (claimed === undefined) throw new Error('no task was ready to claim');
  return claimed.epoch;
}

async function send(
  store: StateStore,
  taskId: string,
  epoch: number,
  seq: number,
  nowMs: number,
  lines: readonly TaskLogLine[],
): Promise<void> {
  await appendTaskLogs(store, { taskId, owner: 'ex-a', epoch, seq, nowMs, lines });
}

/**
 * Task t1 of run-1 fails its first attempt and succeeds its second; t2 of run-1 and t3 of run-2
 * run once each. Messages are numbered in the order the Scheduler receives them.
 */
async function seedLogs(store: StateStore): Promise<void> {
  await enqueueTasks(store, [queuedTask('t1', { runId: 'run-1' })], T0);
  const first = await claim(store, T0);
  await send(store, 't1', first, 1, T0 + 10, [
    line('info', '1 starting shop.orders'),
    line('debug', '2 rendered the query'),
    line('warn', '3 slow scan of raw.orders'),
  ]);
  await send(store, 't1', first, 2, T0 + 20, [line('error', '4 Engine error: relation missing')]);
  const answer = await completeTask(store, {
    taskId: 't1',
    owner: 'ex-a',
    epoch: first,
    nowMs: T0 + 30,
    idempotencyKey: 'k1',
    retry: RETRY,
    random: () => 0,
    ...failed(true),
  });
  const second = await claim(store, answer.retryAtMs ?? 0);
  await send(store, 't1', second, 1, T0 + 2_000, [
    line('info', '5 starting shop.orders again'),
    line('info', '6 wrote 3 rows'),
  ]);

  await enqueueTasks(store, [queuedTask('t2', { runId: 'run-1' })], T0 + 2_100);
  await send(store, 't2', await claim(store, T0 + 2_100), 1, T0 + 2_200, [
    line('warn', '7 ENGINE warning on t2'),
  ]);
  await enqueueTasks(store, [queuedTask('t3', { runId: 'run-2' })], T0 + 2_300);
  await send(store, 't3', await claim(store, T0 + 2_300), 1, T0 + 2_400, [
    line('error', '8 engine error in another run'),
  ]);
}

function messages(lines: readonly FoundLogLine[] | undefined): string[] {
  return (lines ?? []).map((found) => found.message);
}

/** Every line a search selects, read `limit` lines a page, following `next`. */
async function readAllPages(store: StateStore, search: LogSearch): Promise<FoundLogLine[]> {
  const lines: FoundLogLine[] = [];
  let after = search.after;
  for (let pages = 0; pages < 100; pages += 1) {
    const page = await searchTaskLogs(store, { ...search, ...(after ? { after } : {}) });
    lines.push(...(page?.lines ?? []));
    if (page?.next === undefined) return lines;
    after = page.next;
  }
  throw new Error('the search kept answering more pages');
}

for (const backend of stateBackendsUnderTest()) {
  describe.skipIf(backend.skipReason !== '')(`task log search on ${backend.name}`, () => {
    const openFresh = freshStores(backend, ring);

    it("reads every attempt of a task in order, or one attempt's lines", async () => {
      const store = await openFresh();
      await seedLogs(store);

      const all = await searchTaskLogs(store, { scope: { taskId: 't1' }, limit: 100 });
      const second = await searchTaskLogs(store, {
        scope: { taskId: 't1', attempt: 2 },
        limit: 100,
      });

      expect(messages(all?.lines).map((text) => text.slice(0, 1))).toEqual([
        '1',
        '2',
        '3',
        '4',
        '5',
        '6',
      ]);
      expect(all?.lines.map((found) => found.attempt)).toEqual([1, 1, 1, 1, 2, 2]);
      expect(all?.next).toBeUndefined();
      expect(messages(second?.lines)).toEqual(['5 starting shop.orders again', '6 wrote 3 rows']);
      expect(second?.lines[0]).toMatchObject({ taskId: 't1', attempt: 2, level: 'info' });
    });

    it('filters by a minimum level and by text without regard to case', async () => {
      const store = await openFresh();
      await seedLogs(store);
      const scope = { runId: 'run-1' };

      const warnings = await searchTaskLogs(store, { scope, minLevel: 'warn', limit: 100 });
      const engine = await searchTaskLogs(store, { scope, text: 'engine', limit: 100 });
      const errors = await searchTaskLogs(store, {
        scope,
        minLevel: 'error',
        text: 'ENGINE',
        limit: 100,
      });

      expect(messages(warnings?.lines)).toEqual([
        '3 slow scan of raw.orders',
        '4 Engine error: relation missing',
        '7 ENGINE warning on t2',
      ]);
      expect(messages(engine?.lines)).toEqual([
        '4 Engine error: relation missing',
        '7 ENGINE warning on t2',
      ]);
      expect(messages(errors?.lines)).toEqual(['4 Engine error: relation missing']);
    });

    it("reads a run's tasks newest first and leaves other runs out", async () => {
      const store = await openFresh();
      await seedLogs(store);

      const page = await searchTaskLogs(store, {
        scope: { runId: 'run-1' },
        isNewestFirst: true,
        limit: 100,
      });

      expect(messages(page?.lines).map((text) => text.slice(0, 1))).toEqual([
        '7',
        '6',
        '5',
        '4',
        '3',
        '2',
        '1',
      ]);
      expect(page?.lines.map((found) => found.taskId)).toEqual([
        't2',
        't1',
        't1',
        't1',
        't1',
        't1',
        't1',
      ]);
    });

    it('pages in both directions without repeating or skipping a line', async () => {
      const store = await openFresh();
      await seedLogs(store);
      const scope = { runId: 'run-1' };

      const first = await searchTaskLogs(store, { scope, limit: 2 });
      const oldest = await readAllPages(store, { scope, limit: 2 });
      const newest = await readAllPages(store, { scope, limit: 3, isNewestFirst: true });

      expect(messages(first?.lines)).toEqual(['1 starting shop.orders', '2 rendered the query']);
      expect(first?.next).toMatchObject({ taskId: 't1', seq: 1, line: 1 });
      expect(messages(oldest).map((text) => text.slice(0, 1))).toEqual([
        '1',
        '2',
        '3',
        '4',
        '5',
        '6',
        '7',
      ]);
      expect(messages(newest)).toEqual(messages(oldest).reverse());
    });

    it('reads a bounded number of batches per call and continues where it stopped', async () => {
      const store = await openFresh();
      await seedLogs(store);
      const search = { scope: { runId: 'run-1' }, text: 't2', limit: 10, maxBatches: 1 };

      const first = await searchTaskLogs(store, search);
      const all = await readAllPages(store, search);

      expect(first?.lines).toEqual([]);
      expect(first?.next).toMatchObject({ taskId: 't1', epoch: 1, seq: 1, line: 2 });
      expect(messages(all)).toEqual(['7 ENGINE warning on t2']);
    });

    it('answers undefined for a task or a run that does not exist', async () => {
      const store = await openFresh();
      await seedLogs(store);

      expect(await searchTaskLogs(store, { scope: { taskId: 'nope' }, limit: 1 })).toBeUndefined();
      expect(await searchTaskLogs(store, { scope: { runId: 'nope' }, limit: 1 })).toBeUndefined();
      expect(
        await searchTaskLogs(store, { scope: { taskId: 't1', attempt: 9 }, limit: 1 }),
      ).toEqual({ lines: [], next: undefined });
    });
  });
}
