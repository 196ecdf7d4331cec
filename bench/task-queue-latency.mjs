// Ready-to-held latency: 8 idle Executors long-poll for tasks of the `run` pool while a producer
// enqueues one ready task at a time, at a steady rate, with `enqueueTasks`. The latency of a task
// runs from just after its enqueue's transaction committed (when `enqueueTasks` returns) to the
// moment an Executor has read the claim's answer that holds it, both read from this process's
// `performance.now()`. Three arrangements:
// - SQLite, and PostgreSQL, with the producer in the service's process: the service runs in
//   this process and the producer enqueues through the service's own store, so the in-process
//   signal wakes the claims;
// - PostgreSQL with the producer in another process: the service runs as `sluice scheduler` in a
//   child process; the producer writes to the same schema through a store of its own, so only
//   LISTEN/NOTIFY wakes the claims (the path between several Schedulers).
// The Executors run in this process in every arrangement.
import { mkdir } from 'node:fs/promises';
import { enqueueTasks } from '../dist/state/tasks/enqueue-tasks.js';
import { startExecutors } from './task-queue-executors.mjs';
import {
  createExecutorClients,
  DEFAULT_POSTGRES_URL,
  freshLocation,
  median,
  OUT,
  openStore,
  percentile,
  postgresSkipReason,
  readyTask,
  removeLocation,
  sleep,
  taskDefinitions,
} from './task-queue-fixtures.mjs';
import { startChild, startInProcess } from './task-queue-scheduler.mjs';

const ARRANGEMENTS = [
  { backend: 'sqlite', producer: 'service process (in-process signal)' },
  { backend: 'postgres', producer: 'service process (in-process signal)' },
  { backend: 'postgres', producer: 'other process (LISTEN/NOTIFY)' },
];
const RATES_PER_SEC = [10, 20];
const WARM_UP_TASKS = 10;

/** Runs every arrangement at every rate; one row per arrangement and rate, medians of rounds. */
export async function benchTaskLatency({ seconds, rounds, postgresUrl = DEFAULT_POSTGRES_URL }) {
  await mkdir(OUT, { recursive: true });
  const definitionOf = await taskDefinitions();
  const skipReason = await postgresSkipReason(postgresUrl);
  const rows = [];
  for (const arrangement of ARRANGEMENTS) {
    if (arrangement.backend === 'postgres' && skipReason !== '') {
      rows.push({ ...arrangement, skipped: skipReason });
      continue;
    }
    const figures = await measureArrangement(
      arrangement,
      { seconds, rounds, postgresUrl },
      definitionOf,
    );
    rows.push(...figures);
  }
  return rows;
}

async function measureArrangement(arrangement, sizes, definitionOf) {
  const setup = await setUp(arrangement, sizes.postgresUrl);
  try {
    await measureRate(setup, definitionOf, 20, WARM_UP_TASKS, 'warm-up');
    const rows = [];
    for (const rate of RATES_PER_SEC) {
      const tasks = Math.max(1, Math.round(rate * sizes.seconds));
      const runs = [];
      for (let round = 0; round < sizes.rounds; round++) {
        runs.push(await measureRate(setup, definitionOf, rate, tasks, `r${rate}-${round}`));
      }
      rows.push(report(arrangement, rate, tasks, runs));
    }
    return rows;
  } finally {
    await setup.close();
  }
}

/** The store, the service and the 8 Executors of one arrangement, and how to take them down. */
async function setUp(arrangement, postgresUrl) {
  const isOtherProcess = arrangement.producer.startsWith('other');
  const location = await freshLocation(arrangement.backend, postgresUrl);
  const store = await openStore(location);
  const clients = await createExecutorClients(store);
  const logName = `latency-${arrangement.backend}-${isOtherProcess ? 'child' : 'in-process'}.log`;
  const service = isOtherProcess
    ? await startChild(location, logName)
    : await startInProcess(store, logName);

  const received = new Map();
  const completed = { count: 0, waiters: [] };
  const executors = await startExecutors(service.url, clients, {
    onClaimed: (tasks, receivedMs) => {
      for (const task of tasks) received.set(task.id, receivedMs);
    },
    onCompleted: () => {
      completed.count += 1;
      for (const waiter of [...completed.waiters]) waiter();
    },
  });
  return {
    store,
    received,
    completed,
    executors,
    close: async () => {
      await executors.stop();
      await service.close();
      await store.close();
      await removeLocation(location);
    },
  };
}

/** Enqueues `count` tasks at `ratePerSec`, waits until all are completed; the latencies. */
async function measureRate(setup, definitionOf, ratePerSec, count, label) {
  const { store, received, completed, executors } = setup;
  const runId = `run-${label}`;
  const committed = new Map();
  const target = completed.count + count;
  const startedMs = performance.now();
  for (let index = 0; index < count; index++) {
    const waitMs = startedMs + (index * 1000) / ratePerSec - performance.now();
    if (waitMs > 0) await sleep(waitMs);
    const id = `${runId}-${index}`;
    await enqueueTasks(store, [readyTask(definitionOf, id, runId)], Date.now());
    committed.set(id, performance.now());
  }
  await Promise.race([untilCompleted(completed, target), executors.failure]);

  const latencies = [];
  for (const [id, committedMs] of committed) latencies.push(received.get(id) - committedMs);
  return latencies;
}

function untilCompleted(completed, target) {
  return new Promise((resolvePromise) => {
    const check = () => {
      if (completed.count < target) return;
      completed.waiters.splice(completed.waiters.indexOf(check), 1);
      resolvePromise();
    };
    completed.waiters.push(check);
    check();
  });
}

function report(arrangement, rate, tasks, runs) {
  const round = (value) => Number(value.toFixed(1));
  const figure = (fraction) => round(median(runs.map((run) => percentile(run, fraction))));
  return {
    backend: arrangement.backend,
    producer: arrangement.producer,
    'tasks/s': rate,
    tasks,
    rounds: runs.length,
    'p50 (ms)': figure(0.5),
    'p90 (ms)': figure(0.9),
    'p99 (ms)': figure(0.99),
    'max (ms)': round(Math.max(...runs.map((run) => Math.max(...run)))),
    'p99 per round (ms)': runs.map((run) => round(percentile(run, 0.99))).join(' / '),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const isSmall = process.argv[2] === '--small';
  const seconds = isSmall ? 1 : Number(process.argv[2] ?? 20);
  const rounds = isSmall ? 1 : Number(process.argv[3] ?? 3);
  console.table(await benchTaskLatency({ seconds, rounds, postgresUrl: process.argv[4] }));
}
