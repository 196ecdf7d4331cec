// Throughput of the task queue through the production endpoints: `tasks` tasks queued as a
// layered DAG (layers of 64, each task after the first layer waiting for the task in the same
// place of the layer before, so every completion releases the next task of its chain) and
// drained by 8 Executors at once, each its own OAuth client with a real token, hello, then claims
// of one task (long poll) and a completion with an Idempotency-Key for each. The service runs as
// `sluice scheduler` in a child process; the Executors run in this process. Queueing the DAG,
// starting the service and the Executors' tokens and hellos are not timed: the clock runs from
// the first claim to the last completion answered.
// On PostgreSQL each round also drains, in turn and on the same database, the raw SKIP LOCKED
// loop and pg-boss 10 (task-queue-baselines.mjs), in an order that rotates from round to round;
// SQLite is measured after, on its own. Last, once per backend, the same drain of a DAG whose
// tasks wait for two upstream tasks each: reported as a rate, or as the count completed when no
// completion came for `stallMs` (tasks left blocked for good).
// `--raw-and-sluice` measures only the raw loop and the Sluice PostgreSQL drain, in turn within
// each round: the quick side-by-side comparison while working on the queue.
// Usage: node bench/task-queue-throughput.mjs [tasks] [rounds] [postgres url]
//        node bench/task-queue-throughput.mjs --raw-and-sluice [tasks] [rounds] [postgres url]
//        node bench/task-queue-throughput.mjs --small
import { enqueueTasks } from '../dist/state/tasks/enqueue-tasks.js';
import { pgBossRate, rawLoopRate } from './task-queue-baselines.mjs';
import { cpuPerTaskMs, cpuSnapshot } from './task-queue-cpu.mjs';
import { startExecutors } from './task-queue-executors.mjs';
import {
  createExecutorClients,
  DEFAULT_POSTGRES_URL,
  EXECUTORS,
  freshLocation,
  layeredDag,
  median,
  openStore,
  postgresSkipReason,
  removeLocation,
  taskDefinitions,
} from './task-queue-fixtures.mjs';
import { startChild } from './task-queue-scheduler.mjs';

const DAG_WIDTH = 64;
const ENQUEUE_CHUNK = 1000;
const RAW = 'raw SKIP LOCKED loop (PostgreSQL)';
const BOSS = 'pg-boss 10 fetch + complete (PostgreSQL)';

/**
 * Runs the rounds; one row per way of draining the queue, medians of the rounds. With
 * `isRawAndSluiceOnly`, only the raw loop and the Sluice PostgreSQL drain are measured.
 */
export async function benchTaskThroughput({
  tasks,
  rounds,
  stallMs = 10_000,
  postgresUrl = DEFAULT_POSTGRES_URL,
  isRawAndSluiceOnly = false,
}) {
  const definitionOf = await taskDefinitions();
  const skipReason = await postgresSkipReason(postgresUrl);
  const sizes = { tasks, postgresUrl, upstreamCount: 1, stallMs };
  const ways = {
    [RAW]: () => rawLoopRate({ url: postgresUrl, tasks, claimers: EXECUTORS }),
    [BOSS]: () => pgBossRate({ url: postgresUrl, tasks, claimers: EXECUTORS }),
    'Sluice over HTTP, chains (PostgreSQL)': () => sluiceRate('postgres', sizes, definitionOf),
  };
  if (isRawAndSluiceOnly) {
    delete ways[BOSS];
    if (skipReason !== '') throw new Error(`--raw-and-sluice needs PostgreSQL: ${skipReason}`);
    return report(await roundsOf(ways, rounds), tasks);
  }
  const results = skipReason === '' ? await roundsOf(ways, rounds) : {};

  const sqlite = [];
  for (let round = 0; round < rounds; round++) {
    sqlite.push(await sluiceRate('sqlite', sizes, definitionOf));
  }
  const twoUpstream = { ...sizes, upstreamCount: 2 };
  const rows = report(
    {
      ...(skipReason === '' ? results : {}),
      'Sluice over HTTP, chains (SQLite)': sqlite,
      ...(skipReason === ''
        ? {
            'Sluice over HTTP, two upstream tasks each (PostgreSQL)': [
              await sluiceRate('postgres', twoUpstream, definitionOf),
            ],
          }
        : {}),
      'Sluice over HTTP, two upstream tasks each (SQLite)': [
        await sluiceRate('sqlite', twoUpstream, definitionOf),
      ],
    },
    tasks,
  );
  if (skipReason !== '') rows.push({ way: 'PostgreSQL ways', skipped: skipReason });
  return rows;
}

/** Each way's result per round, the ways in an order that rotates from round to round. */
async function roundsOf(ways, rounds) {
  const names = Object.keys(ways);
  const results = Object.fromEntries(names.map((name) => [name, []]));
  for (let round = 0; round < rounds; round++) {
    const order = names.map((_, index) => names[(index + round) % names.length]);
    for (const name of order) results[name].push(await ways[name]());
  }
  return results;
}

/** Drains a fresh DAG on a fresh store of `backend` through the service. */
async function sluiceRate(backend, sizes, definitionOf) {
  const { tasks, postgresUrl, upstreamCount, stallMs } = sizes;
  const location = await freshLocation(backend, postgresUrl);
  const store = await openStore(location);
  let service;
  try {
    const clients = await createExecutorClients(store);
    const runId = 'run-throughput';
    const dag = layeredDag(definitionOf, { count: tasks, width: DAG_WIDTH, upstreamCount, runId });
    for (let start = 0; start < dag.length; start += ENQUEUE_CHUNK) {
      await enqueueTasks(store, dag.slice(start, start + ENQUEUE_CHUNK), Date.now());
    }
    service = await startChild(location, `throughput-${backend}.log`);
    return await drain(service, clients, tasks, stallMs);
  } finally {
    await service?.close();
    await store.close();
    await removeLocation(location);
  }
}

/** The rate of one drain, or how far it got when it stalled; claims answered with no task. */
async function drain(service, clients, tasks, stallMs) {
  let completed = 0;
  let startedMs = 0;
  let cpuBefore;
  let lastCompletionMs = 0;
  let finish;
  const finished = new Promise((resolvePromise) => {
    finish = resolvePromise;
  });
  const executors = await startExecutors(service.url, clients, {
    onStarted: async () => {
      cpuBefore = await cpuSnapshot(service.pid);
      startedMs = performance.now();
      lastCompletionMs = startedMs;
    },
    onCompleted: () => {
      completed += 1;
      lastCompletionMs = performance.now();
      if (completed === tasks) finish({ endedMs: lastCompletionMs });
    },
  });
  const watch = setInterval(() => {
    if (performance.now() - lastCompletionMs > stallMs) finish({ isStalled: true });
  }, 1000);
  try {
    const end = await Promise.race([finished, executors.failure]);
    const emptyClaims = executors.counts.emptyClaims;
    if (end.isStalled) return { stalledAt: completed, emptyClaims };
    const cpu = cpuPerTaskMs(cpuBefore, await cpuSnapshot(service.pid), tasks);
    return { rate: tasks / ((end.endedMs - startedMs) / 1000), emptyClaims, cpu };
  } finally {
    clearInterval(watch);
    await executors.stop();
  }
}

function report(results, tasks) {
  const raw = results[RAW];
  const rawMedian = raw === undefined ? undefined : median(raw.map((result) => result.rate));
  return Object.entries(results).map(([way, runs]) => {
    const stalled = runs.find((result) => result.stalledAt !== undefined);
    const rates = runs.map((result) => result.rate ?? 0);
    const share =
      rawMedian === undefined ? '' : `${Math.round((median(rates) / rawMedian) * 100)} %`;
    return {
      way,
      tasks,
      rounds: runs.length,
      'tasks/s':
        stalled === undefined ? Math.round(median(rates)) : `stalled at ${stalled.stalledAt}`,
      'tasks/s per round': rates.map(Math.round).join(' / '),
      'of raw loop': stalled === undefined && way.includes('PostgreSQL') ? share : '',
      'empty claims': runs.map((result) => result.emptyClaims ?? '-').join(' / '),
      'CPU ms/task: service, executors or loops, PostgreSQL': cpuOf(way, runs),
    };
  });
}

/** The median CPU milliseconds per task of the rounds, of the parts that take part. */
function cpuOf(way, runs) {
  const measured = runs.filter((result) => result.cpu !== undefined).map((result) => result.cpu);
  if (measured.length === 0) return '';
  const part = (key) => median(measured.map((cpu) => cpu[key])).toFixed(2);
  const service = way.startsWith('Sluice') ? part('service') : '-';
  const postgres = way.includes('PostgreSQL') ? part('postgres') : '-';
  return `${service}, ${part('executors')}, ${postgres}`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const isSmall = process.argv[2] === '--small';
  const isRawAndSluiceOnly = process.argv[2] === '--raw-and-sluice';
  const args = process.argv.slice(isRawAndSluiceOnly ? 3 : 2);
  const tasks = isSmall ? 200 : Number(args[0] ?? 5000);
  const rounds = isSmall ? 1 : Number(args[1] ?? 3);
  const stallMs = isSmall ? 3000 : 10_000;
  const postgresUrl = isSmall ? undefined : args[2];
  console.table(
    await benchTaskThroughput({ tasks, rounds, stallMs, postgresUrl, isRawAndSluiceOnly }),
  );
}
