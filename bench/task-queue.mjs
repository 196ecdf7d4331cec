// Benchmark: the task queue and the pull protocol, on SQLite (a file under bench/out/) and
// PostgreSQL (a private schema, dropped afterwards):
// - ready-to-held latency with 8 idle Executors long polling and a producer enqueueing at 10 and
//   20 tasks per second (task-queue-latency.mjs);
// - throughput of 8 Executors draining a DAG through the production endpoints, beside a raw
//   SKIP LOCKED loop and pg-boss 10 on the same database (task-queue-throughput.mjs).
// Needs `npm run build` first.
// Usage: node bench/task-queue.mjs [latency seconds] [throughput tasks] [rounds] [postgres url]
//        node bench/task-queue.mjs --small
import { benchTaskLatency } from './task-queue-latency.mjs';
import { benchTaskThroughput } from './task-queue-throughput.mjs';

export { benchTaskLatency, benchTaskThroughput };

/** The full sizes, and the small ones that only prove that everything completes. */
export function taskQueueSizes(isSmall) {
  return isSmall
    ? { seconds: 1, tasks: 200, rounds: 1, stallMs: 3000 }
    : { seconds: 15, tasks: 5000, rounds: 3, stallMs: 10_000 };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const isSmall = process.argv[2] === '--small';
  const sizes = taskQueueSizes(isSmall);
  if (!isSmall) {
    sizes.seconds = Number(process.argv[2] ?? sizes.seconds);
    sizes.tasks = Number(process.argv[3] ?? sizes.tasks);
    sizes.rounds = Number(process.argv[4] ?? sizes.rounds);
  }
  const postgresUrl = isSmall ? undefined : process.argv[5];
  console.log(`# ready-to-held latency (${new Date().toISOString()})`);
  console.table(await benchTaskLatency({ ...sizes, postgresUrl }));
  console.log(`# throughput through the production endpoints (${new Date().toISOString()})`);
  console.table(await benchTaskThroughput({ ...sizes, postgresUrl }));
}
