// Benchmark: promoting an environment of N views with Sluice's promoteEnvironment, against the
// engine's own time for the same view statements run directly in one transaction. Three moves,
// each from a fresh start: `create` (an empty environment schema), `repoint` (every view to a new
// table of the same columns) and `reshape` (every view to a table of other columns, which
// PostgreSQL cannot replace in place). On PostgreSQL it also times the alternative Sluice does not
// use: trying each replacement behind a savepoint. Medians of several rounds, methods alternating.
// `scheduler` makes each move an apply through a Scheduler service and `sluice executor` over HTTP
// (bench/promote-remote.mjs), on the same engine, with tables prod built beforehand: its figure is
// the apply's run as the Scheduler recorded it, and `scheduler task` the promote task's duration
// as the Executor reported it. `--in-process` leaves both out.
// Needs `npm run build` first. Usage: node bench/promote.mjs [views] [repeat] [--in-process] (or
// --small)
import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createEngineAdapter } from '../dist/engines/create-engine-adapter.js';
import { promoteEnvironment } from '../dist/executor/promote/promote-environment.js';
import { startRemotePromotion } from './promote-remote.mjs';

const OUT = resolve('bench', 'out');
const DEFAULT_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/test';
/** Table sets: `a` and `b` share their columns; `c` has other names and types. */
const COLUMNS = {
  a: 'id INTEGER, name TEXT, amount DECIMAL(10, 2), created_at TIMESTAMP',
  b: 'id INTEGER, name TEXT, amount DECIMAL(10, 2), created_at TIMESTAMP',
  c: 'id BIGINT, label TEXT, created_at DATE',
};
/** How many statements go into one round trip while setting up (never while timing). */
const SETUP_BATCH = 200;

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** The schemas and names of one benchmark run, under a private prefix. */
function layout(viewCount) {
  const prefix = `bench_promote_${randomBytes(3).toString('hex')}`;
  const physical = `${prefix}_sluice__shop`;
  const environment = `${prefix}_shop__dev`;
  const indexes = Array.from({ length: viewCount }, (_, index) => index);
  const table = (set, index) => ({ schema: physical, name: `shop__model_${index}__${set}` });
  const view = (index) => ({ schema: environment, name: `model_${index}` });
  return { prefix, physical, environment, indexes, table, view };
}

function promoteTask(names, set) {
  return {
    id: `promote-${set}`,
    runId: 'bench',
    kind: 'promote',
    pool: 'apply',
    environment: 'dev',
    executionTimeMs: Date.now(),
    views: names.indexes.map((index) => ({
      view: names.view(index),
      table: names.table(set, index),
    })),
    dropViews: [],
  };
}

/** Runs statements in batches, outside any timing. */
async function runBatched(adapter, statements) {
  for (let start = 0; start < statements.length; start += SETUP_BATCH) {
    const batch = statements.slice(start, start + SETUP_BATCH);
    if (adapter.type === 'postgres') {
      await adapter.execute(batch.join(';\n'));
    } else {
      await adapter.transaction(async (session) => {
        for (const statement of batch) await session.execute(statement);
      });
    }
  }
}

async function createTables(adapter, names) {
  await adapter.createSchema(names.physical);
  const statements = Object.entries(COLUMNS).flatMap(([set, columns]) =>
    names.indexes.map(
      (index) => `CREATE TABLE ${adapter.quoteTable(names.table(set, index))} (${columns})`,
    ),
  );
  await runBatched(adapter, statements);
}

/** Drops the environment schema, and creates its views over table set `set` unless undefined. */
async function resetEnvironment(adapter, names, set) {
  await adapter.execute(
    `DROP SCHEMA IF EXISTS ${adapter.quoteIdentifier(names.environment)} CASCADE`,
  );
  if (set === undefined) return;
  await adapter.createSchema(names.environment);
  await runBatched(
    adapter,
    names.indexes.map((index) => createViewSql(adapter, names, index, set, 'CREATE VIEW')),
  );
}

function createViewSql(adapter, names, index, set, verb = 'CREATE OR REPLACE VIEW') {
  const view = adapter.quoteTable(names.view(index));
  return `${verb} ${view} AS SELECT * FROM ${adapter.quoteTable(names.table(set, index))}`;
}

/**
 * The engine's own time: the view statements in one transaction, one statement per view, except
 * that PostgreSQL's `reshape` needs DROP VIEW before CREATE VIEW.
 */
async function direct(adapter, names, move) {
  const isDropped = adapter.type === 'postgres' && move === 'reshape';
  const set = { create: 'a', repoint: 'b', reshape: 'c' }[move];
  if (move === 'create') await adapter.createSchema(names.environment);
  await adapter.transaction(async (session) => {
    for (const index of names.indexes) {
      if (isDropped) await session.execute(`DROP VIEW ${adapter.quoteTable(names.view(index))}`);
      const verb = isDropped ? 'CREATE VIEW' : 'CREATE OR REPLACE VIEW';
      await session.execute(createViewSql(adapter, names, index, set, verb));
    }
  });
}

async function sluice(adapter, names, move) {
  const set = { create: 'a', repoint: 'b', reshape: 'c' }[move];
  await promoteEnvironment(adapter, promoteTask(names, set));
}

/**
 * The rejected alternative on PostgreSQL: each CREATE OR REPLACE VIEW behind a savepoint, falling
 * back to DROP and CREATE when PostgreSQL refuses.
 */
async function savepoints(adapter, names, move) {
  const set = { create: 'a', repoint: 'b', reshape: 'c' }[move];
  if (move === 'create') await adapter.createSchema(names.environment);
  await adapter.transaction(async (session) => {
    for (const index of names.indexes) {
      await session.execute('SAVEPOINT sluice_view');
      try {
        await session.execute(createViewSql(adapter, names, index, set));
        await session.execute('RELEASE SAVEPOINT sluice_view');
      } catch {
        await session.execute('ROLLBACK TO SAVEPOINT sluice_view');
        await session.execute(`DROP VIEW ${adapter.quoteTable(names.view(index))}`);
        await session.execute(createViewSql(adapter, names, index, set, 'CREATE VIEW'));
      }
    }
  });
}

/** What each move starts from: no environment, or views over set `a`. */
const STARTS = { create: undefined, repoint: 'a', reshape: 'a' };

async function timeMoves(adapter, names, methods, repeat) {
  const timings = new Map();
  for (const move of Object.keys(STARTS)) {
    for (const method of Object.keys(methods)) timings.set(`${move}/${method}`, []);
  }
  for (let round = -1; round < repeat; round++) {
    for (const move of Object.keys(STARTS)) {
      const order = Object.entries(methods);
      if (round % 2 === 1) order.reverse();
      for (const [method, run] of order) {
        await resetEnvironment(adapter, names, STARTS[move]);
        const started = performance.now();
        // A method with untimed set-up of its own times itself and gives its milliseconds.
        const measuredMs = await run(adapter, names, move, round);
        const elapsedMs = measuredMs ?? performance.now() - started;
        // Round -1 warms caches and is not kept.
        if (round >= 0) timings.get(`${move}/${method}`).push(elapsedMs);
      }
    }
  }
  return timings;
}

function summarise(engine, viewCount, timings) {
  const rows = [];
  for (const [key, values] of timings) {
    const [move, method] = key.split('/');
    const baselineMs = median(timings.get(`${move}/direct`));
    const ms = median(values);
    rows.push({
      engine,
      views: viewCount,
      move,
      method,
      medianMs: Math.round(ms),
      ratio: (ms / baselineMs).toFixed(2),
      budgetMs: method === 'direct' ? '' : Math.round(1.5 * baselineMs + 200),
      eachMs: values.map((value) => Math.round(value)).join(' '),
    });
  }
  return rows;
}

/**
 * Times the moves on one engine, with its tables under a private prefix dropped afterwards; given
 * `connection` (the engine's gateway settings), through a Scheduler and an Executor too.
 */
async function benchEngine(adapter, viewCount, repeat, connection) {
  const names = layout(viewCount);
  const methods = { direct, sluice };
  if (adapter.type === 'postgres') methods.savepoints = savepoints;
  let remote;
  try {
    await createTables(adapter, names);
    if (connection !== undefined) {
      remote = await startRemotePromotion({ engine: adapter.type, connection, viewCount });
      methods.scheduler = (_adapter, _names, move, round) => remote.timeMove(round, move);
    }
    const timings = await timeMoves(adapter, names, methods, repeat);
    for (const [move, values] of remote?.promoteTaskMs ?? []) {
      timings.set(`${move}/scheduler task`, values);
    }
    return summarise(adapter.type, viewCount, timings);
  } finally {
    await remote?.close();
    if (remote !== undefined && adapter.type === 'postgres') await dropRemote(adapter, remote);
    await dropEverything(adapter, names);
    await adapter.close();
  }
}

/** Drops what the Scheduler's applies made on PostgreSQL: views first, tables in batches. */
async function dropRemote(adapter, remote) {
  const dropSchema = (schema) =>
    adapter.execute(`DROP SCHEMA IF EXISTS ${adapter.quoteIdentifier(schema)} CASCADE`);
  for (const environment of remote.environments) {
    await dropSchema(`${remote.schema}__${environment}`);
  }
  await dropSchema(remote.schema);
  const physical = `sluice__${remote.schema}`;
  const tables = await adapter.query(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = '${physical}'`,
  );
  await runBatched(
    adapter,
    tables.rows.map(
      (row) =>
        `DROP TABLE IF EXISTS ${adapter.quoteTable({ schema: physical, name: row.table_name })}`,
    ),
  );
  await dropSchema(physical);
}

/**
 * Drops the benchmark's schemas. The tables go in batches first: dropping thousands of tables in
 * one transaction takes more locks than PostgreSQL's default lock table holds.
 */
async function dropEverything(adapter, names) {
  const dropSchema = (schema) =>
    adapter.execute(`DROP SCHEMA IF EXISTS ${adapter.quoteIdentifier(schema)} CASCADE`);
  await dropSchema(names.environment);
  const tables = Object.keys(COLUMNS).flatMap((set) =>
    names.indexes.map(
      (index) => `DROP TABLE IF EXISTS ${adapter.quoteTable(names.table(set, index))}`,
    ),
  );
  await runBatched(adapter, tables);
  await dropSchema(names.physical);
}

async function openDuckDb(database) {
  await rm(database, { force: true });
  await rm(`${database}.wal`, { force: true });
  return createEngineAdapter({
    gateway: 'bench',
    type: 'duckdb',
    settings: { database },
    baseDir: OUT,
  });
}

/**
 * Opens the PostgreSQL adapter and gives it with its gateway settings for a sluice.yaml (without
 * a password: the Executor's driver reads PGPASSWORD), or says why it cannot and gives undefined.
 */
async function openPostgres() {
  const url = new URL(process.env.SLUICE_TEST_POSTGRES_URL ?? DEFAULT_POSTGRES_URL);
  const settings = {
    host: url.hostname,
    port: Number(url.port || 5432),
    database: url.pathname.slice(1) || 'postgres',
    user: decodeURIComponent(url.username || 'postgres'),
    ...(url.password === '' ? {} : { password: decodeURIComponent(url.password) }),
  };
  try {
    const adapter = await createEngineAdapter({
      gateway: 'bench',
      type: 'postgres',
      settings,
      baseDir: OUT,
    });
    await adapter.ping();
    const { password: _password, ...connection } = settings;
    return { adapter, connection: { type: 'postgres', ...connection } };
  } catch (error) {
    console.log(`PostgreSQL is unreachable (${error.message}); running the DuckDB part only.`);
    return undefined;
  }
}

/**
 * Runs the benchmark with `views` views, `repeat` timed rounds of each move and method; through a
 * Scheduler and an Executor too unless `isInProcessOnly`.
 */
export async function benchPromote({ views, repeat, isInProcessOnly = false }) {
  await mkdir(OUT, { recursive: true });
  const database = join(OUT, 'promote.duckdb');
  const remoteDatabase = join(OUT, 'promote-remote.duckdb');
  const results = [];
  try {
    const connection = isInProcessOnly ? undefined : { type: 'duckdb', database: remoteDatabase };
    results.push(...(await benchEngine(await openDuckDb(database), views, repeat, connection)));
  } finally {
    for (const file of [database, remoteDatabase]) {
      await rm(file, { force: true });
      await rm(`${file}.wal`, { force: true });
    }
  }
  const postgres = await openPostgres();
  if (postgres !== undefined) {
    const connection = isInProcessOnly ? undefined : postgres.connection;
    results.push(...(await benchEngine(postgres.adapter, views, repeat, connection)));
  }
  return results;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const isSmall = process.argv.includes('--small');
  const [views, repeat] = process.argv.slice(2).filter((arg) => !arg.startsWith('--'));
  console.table(
    await benchPromote({
      views: Number(views ?? (isSmall ? 20 : 1000)),
      repeat: Number(repeat ?? (isSmall ? 1 : 5)),
      isInProcessOnly: process.argv.includes('--in-process'),
    }),
  );
}
