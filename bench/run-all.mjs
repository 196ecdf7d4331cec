// Runs every benchmark. `--small` runs each at a small size only to prove it still works (CI).
import { benchAuth } from './auth.mjs';
import { benchBackfill } from './backfill.mjs';
import { benchFingerprint } from './fingerprint.mjs';
import { benchIntervals } from './intervals.mjs';
import { benchLoadProject } from './load-project.mjs';
import { benchPlan } from './plan.mjs';
import { benchPromote } from './promote.mjs';
import { benchSeedLoad } from './seed-load.mjs';
import { benchPayloadReads, benchStateBackup } from './state-backup.mjs';
import { benchTaskLatency, benchTaskThroughput, taskQueueSizes } from './task-queue.mjs';

const isSmall = process.argv.includes('--small');

const benchmarks = [
  {
    name: 'load, parse and order a generated project',
    run: () =>
      benchLoadProject(isSmall ? { modelCount: 50, repeat: 1 } : { modelCount: 5000, repeat: 5 }),
  },
  {
    name: 'fingerprint every model of a generated project',
    run: () =>
      benchFingerprint(isSmall ? { modelCount: 50, repeat: 1 } : { modelCount: 5000, repeat: 7 }),
  },
  {
    name: "seed a CSV file: Sluice's loadSeed against the engine's own bulk load",
    run: () =>
      benchSeedLoad(isSmall ? { rows: 10_000, repeat: 1 } : { rows: 1_000_000, repeat: 5 }),
  },
  {
    name: 'missing intervals of five-minute models starting 2000-01-01',
    run: () =>
      benchIntervals(isSmall ? { modelCount: 50, repeat: 1 } : { modelCount: 1000, repeat: 7 }),
  },
  {
    name: 'a 30-day backfill in process and over HTTP against the same SQL run directly',
    run: () =>
      benchBackfill(
        isSmall
          ? { days: 5, rowsPerDay: 20_000, repeat: 1 }
          : { days: 30, rowsPerDay: 5_500_000, repeat: 5 },
      ),
  },
  {
    name: 'plan one changed model of a generated project against its cold load',
    run: () => benchPlan(isSmall ? { modelCount: 50, repeat: 1 } : { modelCount: 5000, repeat: 5 }),
  },
  {
    name: 'promote 1,000 views in process and over HTTP against the statements run directly',
    run: () => benchPromote(isSmall ? { views: 20, repeat: 1 } : { views: 1000, repeat: 5 }),
  },
  {
    name: 'back up and verify the state store, read and decrypt 10,000 payloads',
    run: () => benchStateBackup({ megabytes: isSmall ? 8 : 1024 }),
  },
  {
    name: 'read and decrypt 10,000 payloads: one by one, bulk, readPayloadRows, audit log reader',
    run: () => benchPayloadReads({ repeat: isSmall ? 1 : 7 }),
  },
  {
    name: 'issue and verify access tokens; the latency that authentication adds per request',
    run: () => benchAuth(isSmall ? { requests: 200, repeat: 1 } : { requests: 5000, repeat: 5 }),
  },
  {
    name: 'task queue: ready-to-held latency with 8 idle Executors long polling',
    run: () => benchTaskLatency(taskQueueSizes(isSmall)),
  },
  {
    name: 'task queue: 8 Executors draining a DAG over HTTP, beside a raw loop and pg-boss',
    run: () => benchTaskThroughput(taskQueueSizes(isSmall)),
  },
];

for (const benchmark of benchmarks) {
  console.log(`\n# ${benchmark.name}${isSmall ? ' (small)' : ''}`);
  console.table(await benchmark.run());
}
