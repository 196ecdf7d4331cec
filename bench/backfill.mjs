// What a backfill costs through Sluice's run machinery compared with running the same SQL
// directly. A DuckDB file holds `rowsPerDay` events per day for `days` days; a daily
// INCREMENTAL_BY_TIME_RANGE model aggregates one day in about 100 ms at the full size
// (5.5 million rows a day). Each
// repetition times, side by side on the same file:
//   loop      the model's one-day INSERT ... SELECT, run directly 30 times through the adapter
//   sluice-1  runLocally over the model with batch_size 1 (a create task and 30 evaluate tasks)
//   single    one INSERT ... SELECT over all the days, run directly
//   sluice-30 runLocally over the model with batch_size 30 (a create task and 1 evaluate task)
//   http-1, http-30  the same model applied as a plan to prod through a Scheduler service (in this
//             process, on a fresh SQLite store) and `sluice executor` (a child process) over HTTP
//             on loopback: the create and evaluate tasks above, then one promote task of its view
// Sluice's figures cover the run itself: lease, state reads and writes of every task, rendering,
// and the engine work; loading the project and opening the state store happen before the clock
// starts (`sluice run` pays them once per process, whatever the backfill's size). The HTTP
// figures run from the run's start to its end as the Scheduler records them (`created_at_ms` to
// `finished_at_ms` of the apply run); starting the service and the Executor, and the plan request,
// happen before. DuckDB admits one process per file, so this process holds no handle on the file
// while the Executor runs, and the Executor is started afresh for each of those runs.
// Usage: npm run build && node bench/backfill.mjs [--small | ROWS_PER_DAY [REPEAT]]

import { randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { runLocally } from '../dist/cli/local-run.js';
import { projectVersions } from '../dist/cli/project-run-setup.js';
import { SILENT_LOGGER } from '../dist/core/logger.js';
import { createEngineAdapter } from '../dist/engines/create-engine-adapter.js';
import { loadProject } from '../dist/project/project-loader.js';
import { buildRunGraph } from '../dist/scheduler/runs/run-graph.js';
import { createSqlParser } from '../dist/sql/sql-parser.js';
import { openStateStore } from '../dist/state/open-state-store.js';
import { saveSnapshots } from '../dist/state/snapshot-store.js';
import {
  planAndApply,
  projectPlanParts,
  runTaskTimes,
  startBenchExecutor,
  startBenchScheduler,
} from './scheduler-executor.mjs';

const OUT = resolve('bench', 'out', 'backfill');
const FIRST_DAY = '2024-01-01';

const ring = (() => {
  const key = { id: 'bench', secret: randomBytes(32) };
  return { active: key, keys: new Map([[key.id, key]]) };
})();

/** Runs the comparison; returns one row per way of running, with medians in milliseconds. */
export async function benchBackfill({ days, rowsPerDay, repeat }) {
  await rm(OUT, { recursive: true, force: true });
  await mkdir(OUT, { recursive: true });
  const lastDay = dayAfter(FIRST_DAY, days - 1);
  await writeProjects(days, lastDay);
  await loadEvents(days, rowsPerDay);

  const figures = {
    loop: [],
    'sluice-1': [],
    'http-1': [],
    single: [],
    'sluice-30': [],
    'http-30': [],
  };
  const engineMs = { 'http-1': [], 'http-30': [] };
  for (let round = 0; round < repeat; round++) {
    figures.loop.push(await directly(days, 1));
    figures['sluice-1'].push(await throughSluice('batch1'));
    const remote1 = await throughScheduler('batch1');
    figures['http-1'].push(remote1.runMs);
    engineMs['http-1'].push(remote1.engineMs);
    figures.single.push(await directly(days, days));
    figures['sluice-30'].push(await throughSluice('batchall'));
    const remote30 = await throughScheduler('batchall');
    figures['http-30'].push(remote30.runMs);
    engineMs['http-30'].push(remote30.engineMs);
  }

  const rows = Object.entries(figures).map(([way, times]) =>
    rowOf(way, times, figures, engineMs[way], days),
  );
  await rm(OUT, { recursive: true, force: true });
  return rows;
}

/** Tasks of each way that runs through Sluice: create and evaluate, plus promote over HTTP. */
function tasksOf(way, days) {
  const evaluates = way.endsWith('-1') ? days : 1;
  return way.startsWith('http') ? evaluates + 2 : evaluates + 1;
}

function rowOf(way, times, figures, engineTimes, days) {
  const medianMs = median(times);
  const baseWay = {
    'sluice-1': 'loop',
    'http-1': 'loop',
    'sluice-30': 'single',
    'http-30': 'single',
  }[way];
  const baseMs = baseWay === undefined ? undefined : median(figures[baseWay]);
  const inProcessMs = way.startsWith('http')
    ? median(figures[way.replace('http', 'sluice')])
    : undefined;
  const tasks = tasksOf(way, days);
  // On a shared machine a round's ratio to its own baseline is steadier than ratios of medians.
  const roundRatios =
    baseWay === undefined ? [] : times.map((time, round) => time / figures[baseWay][round]);
  return {
    way,
    'median ms': Math.round(medianMs),
    'runs ms': times.map(Math.round).join(' '),
    ratio: baseMs === undefined ? '' : (medianMs / baseMs).toFixed(3),
    'ratio per round': roundRatios.map((ratio) => ratio.toFixed(2)).join(' '),
    'median of ratios': roundRatios.length === 0 ? '' : median(roundRatios).toFixed(3),
    'overhead per task ms': baseMs === undefined ? '' : ((medianMs - baseMs) / tasks).toFixed(1),
    'of in-process': inProcessMs === undefined ? '' : (medianMs / inProcessMs).toFixed(3),
    'Executor task ms': engineTimes === undefined ? '' : engineTimes.map(Math.round).join(' '),
  };
}

const MODEL_QUERY = `SELECT day, user_id % 1000 AS bucket, COUNT(*) AS events, SUM(amount) AS total,
  COUNT(DISTINCT user_id) AS users
FROM raw.events
WHERE day BETWEEN @start_ds AND @end_ds
GROUP BY ALL`;

async function writeProjects(days, lastDay) {
  for (const [folder, batchSize] of [
    ['batch1', 1],
    ['batchall', days],
  ]) {
    const root = join(OUT, folder);
    await writeProject(
      root,
      `MODEL (\n  name bench.daily_${folder},\n` +
        `  kind INCREMENTAL_BY_TIME_RANGE (time_column day, batch_size ${batchSize}),\n` +
        `  cron '@daily',\n  start '${FIRST_DAY}',\n  end '${lastDay}'\n);\n\n${MODEL_QUERY}\n`,
    );
  }
  await writeProject(
    join(OUT, 'warmup'),
    `MODEL (\n  name bench_warmup.ready,\n  kind FULL,\n  cron '@daily',\n` +
      `  start '${FIRST_DAY}',\n  end '${FIRST_DAY}'\n);\n\nSELECT 1 AS ready\n`,
  );
}

/** A project of one model on the benchmark's DuckDB file. */
async function writeProject(root, model) {
  await mkdir(join(root, 'models'), { recursive: true });
  await writeFile(
    join(root, 'sluice.yaml'),
    `name: bench\ngateways:\n  local:\n    connection:\n` +
      `      type: duckdb\n      database: ${join(OUT, 'warehouse.duckdb')}\n`,
  );
  await writeFile(join(root, 'models', 'model.sql'), model);
}

async function loadEvents(days, rowsPerDay) {
  const adapter = await openWarehouse();
  try {
    await adapter.execute('CREATE SCHEMA raw');
    await adapter.execute(
      `CREATE TABLE raw.events AS SELECT DATE '${FIRST_DAY}' ` +
        `+ CAST(i // ${rowsPerDay} AS INTEGER) AS day,
         i % 100000 AS user_id, (i * 7919) % 1000 / 10.0 AS amount
       FROM range(${days * rowsPerDay}) AS t(i)`,
    );
  } finally {
    await adapter.close();
  }
}

/** The model's SQL run directly, `daysPerStatement` days per INSERT, into a fresh table. */
async function directly(days, daysPerStatement) {
  const adapter = await openWarehouse();
  try {
    await adapter.execute('DROP SCHEMA IF EXISTS direct CASCADE');
    await adapter.execute('CREATE SCHEMA direct');
    const shaped = MODEL_QUERY.replace('@start_ds', `'${FIRST_DAY}'`).replace(
      '@end_ds',
      `'${FIRST_DAY}'`,
    );
    await adapter.execute(`CREATE TABLE direct.daily AS SELECT * FROM (${shaped}) LIMIT 0`);

    const started = performance.now();
    for (let offset = 0; offset < days; offset += daysPerStatement) {
      const start = dayAfter(FIRST_DAY, offset);
      const end = dayAfter(FIRST_DAY, Math.min(days, offset + daysPerStatement) - 1);
      const sql = MODEL_QUERY.replace('@start_ds', `'${start}'`).replace('@end_ds', `'${end}'`);
      await adapter.execute(`INSERT INTO direct.daily ${sql}`);
    }
    return performance.now() - started;
  } finally {
    await adapter.close();
  }
}

/** A whole run of one project's model with a fresh state store and no physical table yet. */
async function throughSluice(folder) {
  const root = join(OUT, folder);
  const project = await loadProject(root, { logger: SILENT_LOGGER });
  const { snapshots } = await projectVersions(project);
  const graph = buildRunGraph(snapshots, project.dag.nodes, {
    projectName: project.config.name,
    gateway: 'local',
  });
  const statePath = join(OUT, `${folder}-state.db`);
  await rm(statePath, { force: true });
  const store = await openStateStore({
    location: { backend: 'sqlite', path: statePath },
    keyRing: ring,
    shouldMigrate: true,
  });
  const adapter = await openWarehouse();
  const parser = await createSqlParser();
  try {
    await adapter.execute('DROP SCHEMA IF EXISTS sluice__bench CASCADE');
    await saveSnapshots(store, [...snapshots.values()]);

    const started = performance.now();
    const result = await runLocally({
      store,
      graph,
      adapter,
      parser,
      pool: 'run',
      slots: 4,
      nowMs: Date.now(),
      signal: new AbortController().signal,
      logger: SILENT_LOGGER,
    });
    const elapsedMs = performance.now() - started;
    if (result.models.some((model) => model.outcome !== 'succeeded')) {
      throw new Error(`The backfill did not succeed: ${JSON.stringify(result.models)}`);
    }
    return elapsedMs;
  } finally {
    await parser.close();
    await adapter.close();
    await store.close();
  }
}

/**
 * The same run applied as a plan to prod through a Scheduler and an Executor over HTTP, from a
 * fresh state store and with no physical table yet. Gives the run's time as the Scheduler
 * recorded it and the sum of the task durations the Executor reported.
 */
async function throughScheduler(folder) {
  const root = join(OUT, folder);
  const parts = await projectPlanParts(root);
  const warmup = await projectPlanParts(join(OUT, 'warmup'));
  const adapter = await openWarehouse();
  try {
    for (const schema of ['sluice__bench', 'bench', 'sluice__bench_warmup', 'bench_warmup']) {
      await adapter.execute(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    }
  } finally {
    await adapter.close();
  }
  const dir = join(OUT, `${folder}-http`);
  const scheduler = await startBenchScheduler(dir);
  try {
    const executor = await startBenchExecutor(scheduler, root, join(dir, 'executor.log'));
    try {
      // A long-running Executor has its engine open and its code warm: one small apply first.
      await planAndApply(scheduler, warmup, 'prod');
      const applied = await planAndApply(scheduler, parts, 'prod');
      const tasks = await runTaskTimes(scheduler, applied.run.id);
      const engineMs = tasks.reduce((sum, task) => sum + task.durationMs, 0);
      return { runMs: applied.runMs, engineMs };
    } finally {
      await executor.stop();
    }
  } finally {
    await scheduler.close();
  }
}

function openWarehouse() {
  return createEngineAdapter({
    gateway: 'local',
    type: 'duckdb',
    settings: { database: join(OUT, 'warehouse.duckdb') },
    baseDir: OUT,
  });
}

function dayAfter(day, offset) {
  const instant = new Date(`${day}T00:00:00Z`);
  instant.setUTCDate(instant.getUTCDate() + offset);
  return instant.toISOString().slice(0, 10);
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const isSmall = process.argv.includes('--small');
  const [rowsPerDay, repeat] = process.argv.slice(2).filter((arg) => /^\d+$/.test(arg));
  console.table(
    await benchBackfill(
      isSmall
        ? { days: 5, rowsPerDay: 20_000, repeat: 1 }
        : { days: 30, rowsPerDay: Number(rowsPerDay ?? 5_500_000), repeat: Number(repeat ?? 5) },
    ),
  );
}
