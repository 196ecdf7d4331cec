// Benchmark: seeding a generated CSV file with Sluice's loadSeed, against each engine's own bulk
// load of the same file in the same run: DuckDB's `CREATE TABLE ... AS SELECT * FROM read_csv(...)`
// and psql's `\copy ... csv header`. Prints the median of several runs of each and their ratio.
// Needs `npm run build` first. Usage: node bench/seed-load.mjs [rows] [repeat]
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createEngineAdapter } from '../dist/engines/create-engine-adapter.js';
import { loadSeed } from '../dist/executor/seeds/load-seed.js';

const OUT = resolve('bench', 'out');
const DEFAULT_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/test';
const CUSTOMERS = ['Ada', 'Grace', 'Linus', 'Margaret', 'Barbara, "Babs" Liskov', 'Edsger'];
const PSQL_TABLE_COLUMNS =
  'id BIGINT, customer TEXT, amount DOUBLE PRECISION, created_at TIMESTAMP, flag BOOLEAN';

/** Writes `rows` rows of id, customer, amount, created_at, flag; some customers need quotes. */
export async function generateCsv(path, rows) {
  const file = createWriteStream(path);
  file.write('id,customer,amount,created_at,flag\n');
  const start = Date.UTC(2024, 0, 1);
  let chunk = '';
  for (let id = 1; id <= rows; id++) {
    const customer = CUSTOMERS[id % CUSTOMERS.length];
    const field = customer.includes(',') ? `"${customer.replaceAll('"', '""')}"` : customer;
    const amount = ((id * 7919) % 100_000) / 100;
    const createdAt = new Date(start + id * 37_000).toISOString().slice(0, 19).replace('T', ' ');
    chunk += `${id},${field},${amount},${createdAt},${id % 3 === 0}\n`;
    if (chunk.length > 1 << 20) {
      if (!file.write(chunk)) await once(file, 'drain');
      chunk = '';
    }
  }
  file.end(chunk);
  await once(file, 'finish');
}

/** A SEED model over the file, with no declared columns, so that types are inferred. */
function seedModel(path) {
  return {
    name: 'bench.seed',
    kind: { name: 'SEED', path, declaredPath: path, batchSize: undefined },
    dialect: 'duckdb',
    columns: [],
    origin: { file: 'models/seed.sql', line: 1, column: 1 },
    preStatements: [],
    postStatements: [],
    dependencies: [],
    externalTables: [],
  };
}

async function timed(work) {
  const started = performance.now();
  const rows = await work();
  return { ms: performance.now() - started, rows };
}

/** One untimed run of each loader first: the first load of a process pays for warming caches. */
async function warmUp(runs, timings) {
  for (const run of runs) await run('warm');
  for (const timing of timings) timing.length = 0;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function summarise(engine, label, runs, baselineMs) {
  const ms = median(runs.map((run) => run.ms));
  return {
    engine,
    loader: label,
    rows: runs[0].rows,
    runs: runs.length,
    medianMs: Math.round(ms),
    ratio: baselineMs === undefined ? '1.00' : (ms / baselineMs).toFixed(2),
    eachMs: runs.map((run) => Math.round(run.ms)).join(' '),
  };
}

/** Sluice's loadSeed against DuckDB's read_csv, on a database file, each into a fresh table. */
async function benchDuckDb(csvPath, repeat) {
  const database = join(OUT, 'seed-load.duckdb');
  await rm(database, { force: true });
  await rm(`${database}.wal`, { force: true });
  const adapter = await createEngineAdapter({
    gateway: 'bench',
    type: 'duckdb',
    settings: { database },
    baseDir: OUT,
  });
  const model = seedModel(csvPath);
  const native = [];
  const sluice = [];
  const path = csvPath.replaceAll("'", "''");
  // Each load starts from a checkpointed database, so that neither pays for the other's writes;
  // the two alternate which goes first.
  const dropAndCheckpoint = async (table) => {
    await adapter.execute(`DROP TABLE ${table}`);
    await adapter.execute('CHECKPOINT');
  };
  const runSluice = async (index) => {
    const target = { schema: 'bench', name: `sluice_${index}` };
    sluice.push(await timed(() => loadSeed(adapter, model, target)));
    await dropAndCheckpoint(adapter.quoteTable(target));
  };
  const runNative = async (index) => {
    const table = `bench.native_${index}`;
    const sql = `CREATE TABLE ${table} AS SELECT * FROM read_csv('${path}')`;
    const run = await timed(() => adapter.execute(sql));
    const count = await adapter.query(`SELECT count(*) AS n FROM ${table}`);
    native.push({ ms: run.ms, rows: Number(count.rows[0].n) });
    await dropAndCheckpoint(table);
  };
  try {
    await adapter.createSchema('bench');
    await warmUp([runSluice, runNative], [sluice, native]);
    for (let index = 0; index < repeat; index++) {
      const order = index % 2 === 0 ? [runSluice, runNative] : [runNative, runSluice];
      for (const run of order) await run(index);
    }
  } finally {
    await adapter.close();
    await rm(database, { force: true });
    await rm(`${database}.wal`, { force: true });
  }
  const baseline = median(native.map((run) => run.ms));
  return [
    summarise('duckdb', 'CREATE TABLE AS read_csv', native),
    summarise('duckdb', 'sluice loadSeed', sluice, baseline),
  ];
}

function postgresSettings(url) {
  return {
    host: url.hostname,
    port: Number(url.port || 5432),
    database: url.pathname.slice(1) || 'postgres',
    user: decodeURIComponent(url.username || 'postgres'),
    ...(url.password === '' ? {} : { password: decodeURIComponent(url.password) }),
  };
}

/** Opens the PostgreSQL adapter, or says why it cannot and gives undefined. */
async function openPostgres(settings) {
  try {
    const adapter = await createEngineAdapter({
      gateway: 'bench',
      type: 'postgres',
      settings,
      baseDir: OUT,
    });
    await adapter.ping();
    return adapter;
  } catch (error) {
    console.log(`PostgreSQL is unreachable (${error.message}); running the DuckDB part only.`);
    return undefined;
  }
}

/** psql's \copy into an empty table of the same types, timed from spawn to exit. */
function psqlCopy(settings, table, csvPath) {
  const started = performance.now();
  const result = spawnSync(
    'psql',
    [
      '-h',
      settings.host,
      '-p',
      String(settings.port),
      '-U',
      settings.user,
      '-d',
      settings.database,
      '-v',
      'ON_ERROR_STOP=1',
      '-c',
      `\\copy ${table} from '${csvPath}' csv header`,
    ],
    { encoding: 'utf8', env: { ...process.env, PGPASSWORD: settings.password ?? '' } },
  );
  const ms = performance.now() - started;
  if (result.status !== 0) throw new Error(`psql failed: ${result.stderr || result.error}`);
  return { ms, rows: Number(/COPY (\d+)/.exec(result.stdout)?.[1] ?? Number.NaN) };
}

/** Sluice's loadSeed against psql's \copy, each into a fresh table. */
async function benchPostgres(csvPath, repeat) {
  const url = new URL(process.env.SLUICE_TEST_POSTGRES_URL ?? DEFAULT_POSTGRES_URL);
  const settings = postgresSettings(url);
  const adapter = await openPostgres(settings);
  if (adapter === undefined) return [];
  const model = { ...seedModel(csvPath), dialect: 'postgres' };
  const native = [];
  const sluice = [];
  const runSluice = async (index) => {
    const target = { schema: 'bench_seed_load', name: `sluice_${index}` };
    sluice.push(await timed(() => loadSeed(adapter, model, target)));
    await adapter.execute(`DROP TABLE ${adapter.quoteTable(target)}`);
  };
  const runNative = async (index) => {
    const table = `bench_seed_load.native_${index}`;
    await adapter.execute(`CREATE TABLE ${table} (${PSQL_TABLE_COLUMNS})`);
    native.push(psqlCopy(settings, table, csvPath));
    await adapter.execute(`DROP TABLE ${table}`);
  };
  try {
    await adapter.execute('DROP SCHEMA IF EXISTS bench_seed_load CASCADE');
    await adapter.createSchema('bench_seed_load');
    await warmUp([runSluice, runNative], [sluice, native]);
    for (let index = 0; index < repeat; index++) {
      const order = index % 2 === 0 ? [runSluice, runNative] : [runNative, runSluice];
      for (const run of order) await run(index);
    }
  } finally {
    await adapter.execute('DROP SCHEMA IF EXISTS bench_seed_load CASCADE').catch(() => undefined);
    await adapter.close();
  }
  const baseline = median(native.map((run) => run.ms));
  return [
    summarise('postgres', 'psql \\copy csv header', native),
    summarise('postgres', 'sluice loadSeed', sluice, baseline),
  ];
}

/** Runs the benchmark on a generated file of `rows` rows, `repeat` times each way. */
export async function benchSeedLoad({ rows, repeat }) {
  await mkdir(OUT, { recursive: true });
  const csvPath = join(OUT, `seed-${rows}.csv`);
  await generateCsv(csvPath, rows);
  const { size } = await stat(csvPath);
  console.log(`Generated ${rows.toLocaleString('en')} rows, ${(size / 2 ** 20).toFixed(1)} MiB`);

  const results = [
    ...(await benchDuckDb(csvPath, repeat)),
    ...(await benchPostgres(csvPath, repeat)),
  ];
  await rm(csvPath, { force: true });
  return results;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const rows = Number(process.argv[2] ?? 1_000_000);
  const repeat = Number(process.argv[3] ?? 5);
  console.table(await benchSeedLoad({ rows, repeat }));
}
