// The promotion benchmark's way through a Scheduler and an Executor over HTTP (see
// bench/scheduler-executor.mjs): the same three moves of N views, each an apply of a plan to a
// fresh environment whose tables prod already built, so that the apply's only work is the
// promotion. Three projects of N FULL models each, under a private schema, give the three table
// sets: `a` and `b` of the same four columns (their queries differ by a constant, so they are
// other versions with other tables), `c` of three other columns. All three are applied to prod
// first, untimed; then, per round and move, a new environment `rN_MOVE` gets:
//   create   the plan of `a` (no environment yet: N views created);
//   repoint  the plan of `a` untimed, then that of `b` (N views pointed at tables of the same
//            columns);
//   reshape  the plan of `a` untimed, then that of `c` (N views pointed at other columns).
// The figure is the timed apply's run from its start to its end as the Scheduler recorded it:
// its plan lease and checks, the run over N models that find nothing to build, the promote task
// through the queue, and recording the promotion. Beside it, the promote task's duration as the
// Executor reported it, which compares with `promoteEnvironment` in process.
import { randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  planAndApply,
  projectPlanParts,
  runTaskTimes,
  startBenchExecutor,
  startBenchScheduler,
} from './scheduler-executor.mjs';

const OUT = resolve('bench', 'out', 'promote-remote');
const QUERIES = {
  a: `SELECT 1::INTEGER AS id, 'a'::TEXT AS name, 1.00::DECIMAL(10, 2) AS amount,
  TIMESTAMP '2024-01-01 00:00:00' AS created_at`,
  b: `SELECT 2::INTEGER AS id, 'b'::TEXT AS name, 2.00::DECIMAL(10, 2) AS amount,
  TIMESTAMP '2024-01-02 00:00:00' AS created_at`,
  c: `SELECT 3::BIGINT AS id, 'c'::TEXT AS label, DATE '2024-01-03' AS created_at`,
};
const MOVE_SETS = { create: 'a', repoint: 'b', reshape: 'c' };

/**
 * Writes the projects for `connection` (a gateway's settings), starts the Scheduler and the
 * Executor, and builds the three table sets in prod. `timeMove(round, move)` then gives the run's
 * milliseconds and records the promote task's; `close` stops both. The engine's schemas stay:
 * `schema` (prod's views), `sluice__${schema}` (the tables) and `${schema}__${environment}` for
 * each of `environments`, for the caller to drop.
 */
export async function startRemotePromotion({ engine, connection, viewCount }) {
  const dir = join(OUT, engine);
  await rm(dir, { recursive: true, force: true });
  const schema = `bp_${randomBytes(3).toString('hex')}`;
  const parts = {};
  for (const set of Object.keys(QUERIES)) {
    const root = join(dir, set);
    await writeModels(root, connection, schema, viewCount, QUERIES[set]);
    parts[set] = await projectPlanParts(root);
  }
  const scheduler = await startBenchScheduler(dir);
  const executor = await startBenchExecutor(scheduler, join(dir, 'a'), join(dir, 'executor.log'));
  const promoteTaskMs = new Map();
  const environments = [];
  try {
    for (const set of Object.keys(QUERIES)) await planAndApply(scheduler, parts[set], 'prod');
  } catch (error) {
    await executor.stop();
    await scheduler.close();
    throw error;
  }
  return {
    schema,
    environments,
    promoteTaskMs,
    timeMove: async (round, move) => {
      const environment = `r${round + 1}_${move}`;
      environments.push(environment);
      if (move !== 'create') await planAndApply(scheduler, parts.a, environment);
      const applied = await planAndApply(scheduler, parts[MOVE_SETS[move]], environment);
      const tasks = await runTaskTimes(scheduler, applied.run.id);
      const promote = tasks.find((task) => task.kind === 'promote');
      if (!promoteTaskMs.has(move)) promoteTaskMs.set(move, []);
      if (round >= 0) promoteTaskMs.get(move).push(promote?.durationMs ?? Number.NaN);
      return applied.runMs;
    },
    close: async () => {
      await executor.stop();
      await scheduler.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A project of `viewCount` FULL models of `query` in `schema`, on the gateway `connection`. */
async function writeModels(root, connection, schema, viewCount, query) {
  await mkdir(join(root, 'models'), { recursive: true });
  const settings = Object.entries(connection).map(([key, value]) => `      ${key}: ${value}`);
  await writeFile(
    join(root, 'sluice.yaml'),
    `name: bench\ngateways:\n  local:\n    connection:\n${settings.join('\n')}\n`,
  );
  for (let index = 0; index < viewCount; index++) {
    await writeFile(
      join(root, 'models', `model_${index}.sql`),
      `MODEL (\n  name ${schema}.model_${index},\n  kind FULL,\n  cron '@daily',\n` +
        `  start '2024-01-01',\n  end '2024-01-01'\n);\n\n${query}\n`,
    );
  }
}
