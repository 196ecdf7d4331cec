// The task queue throughput's baselines on PostgreSQL, each in a private schema of its own
// (dropped afterwards), drained by `claimers` loops at once with no sleep:
// - the raw loop: a minimal table (id, status, owner; an index on status and id) and one
//   connection per loop, each claiming with `BEGIN; SELECT id ... ORDER BY id LIMIT 1 FOR UPDATE
//   SKIP LOCKED; UPDATE ... SET status = 'leased'; COMMIT` and completing with one more UPDATE,
//   as prepared statements; no DAG, no lease, no epoch, no encryption;
// - pg-boss 10: `fetch` of one job and `complete`, its maintenance and scheduling turned off.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import PgBoss from 'pg-boss';
import { cpuPerTaskMs, cpuSnapshot } from './task-queue-cpu.mjs';
import { withPostgres } from './task-queue-fixtures.mjs';

const BOSS_QUEUE = 'bench';
const INSERT_CHUNK = 1000;

/** The raw SKIP LOCKED loop: tasks per second and CPU per task, `tasks` queued, `claimers` loops. */
export async function rawLoopRate({ url, tasks, claimers }) {
  const schema = `sluice_bench_raw_${randomBytes(4).toString('hex')}`;
  await withPostgres(url, async (client) => {
    await client.query(`CREATE SCHEMA "${schema}"`);
    await client.query(
      `CREATE TABLE "${schema}".queue (id bigint PRIMARY KEY, status text NOT NULL, owner text)`,
    );
    await client.query(`CREATE INDEX ON "${schema}".queue (status, id)`);
    await client.query(
      `INSERT INTO "${schema}".queue SELECT n, 'ready', NULL FROM generate_series(1, $1) n`,
      [tasks],
    );
    await client.query(`ANALYZE "${schema}".queue`);
  });
  const connections = await Promise.all(
    Array.from({ length: claimers }, () => connect(url, schema)),
  );
  try {
    const cpuBefore = await cpuSnapshot();
    const started = performance.now();
    const done = await Promise.all(connections.map((client, index) => rawLoop(client, index)));
    const seconds = (performance.now() - started) / 1000;
    checkDrained('raw loop', done, tasks);
    return { rate: tasks / seconds, cpu: cpuPerTaskMs(cpuBefore, await cpuSnapshot(), tasks) };
  } finally {
    await Promise.all(connections.map((client) => client.end()));
    await dropSchema(url, schema);
  }
}

async function connect(url, schema) {
  const client = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` });
  await client.connect();
  return client;
}

/** Claims and completes until no task is left; returns how many it completed. */
async function rawLoop(client, index) {
  const owner = `raw-${index}`;
  let done = 0;
  for (;;) {
    await client.query({ name: 'begin', text: 'BEGIN' });
    const found = await client.query({
      name: 'claim',
      text: `SELECT id FROM queue WHERE status = 'ready' ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED`,
    });
    const id = found.rows[0]?.id;
    if (id !== undefined) {
      await client.query({
        name: 'lease',
        text: `UPDATE queue SET status = 'leased', owner = $2 WHERE id = $1`,
        values: [id, owner],
      });
    }
    await client.query({ name: 'commit', text: 'COMMIT' });
    if (id === undefined) return done;

    await client.query({
      name: 'complete',
      text: `UPDATE queue SET status = 'done' WHERE id = $1 AND owner = $2`,
      values: [id, owner],
    });
    done += 1;
  }
}

/** pg-boss 10, `claimers` loops of fetch and complete, no sleep: tasks per second, CPU per task. */
export async function pgBossRate({ url, tasks, claimers }) {
  const schema = `sluice_bench_boss_${randomBytes(4).toString('hex')}`;
  const boss = new PgBoss({
    connectionString: url,
    schema,
    max: claimers + 2,
    supervise: false,
    schedule: false,
  });
  const errors = [];
  boss.on('error', (error) => errors.push(error));
  await boss.start();
  try {
    await boss.createQueue(BOSS_QUEUE);
    for (let start = 0; start < tasks; start += INSERT_CHUNK) {
      const count = Math.min(INSERT_CHUNK, tasks - start);
      const jobs = Array.from({ length: count }, (_, n) => ({
        name: BOSS_QUEUE,
        data: { n: start + n },
      }));
      await boss.insert(jobs);
    }

    const cpuBefore = await cpuSnapshot();
    const started = performance.now();
    const done = await Promise.all(Array.from({ length: claimers }, () => bossLoop(boss)));
    const seconds = (performance.now() - started) / 1000;
    checkDrained('pg-boss', done, tasks);
    if (errors.length > 0) throw errors[0];
    return { rate: tasks / seconds, cpu: cpuPerTaskMs(cpuBefore, await cpuSnapshot(), tasks) };
  } finally {
    await boss.stop({ graceful: false, wait: true });
    await dropSchema(url, schema);
  }
}

async function bossLoop(boss) {
  let done = 0;
  for (;;) {
    const [job] = await boss.fetch(BOSS_QUEUE);
    if (job === undefined) return done;
    await boss.complete(BOSS_QUEUE, job.id);
    done += 1;
  }
}

function checkDrained(what, done, tasks) {
  const total = done.reduce((sum, count) => sum + count, 0);
  if (total !== tasks) throw new Error(`The ${what} completed ${total} tasks of ${tasks}`);
}

function dropSchema(url, schema) {
  return withPostgres(url, (client) => client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
}
