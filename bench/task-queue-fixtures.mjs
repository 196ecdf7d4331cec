// What the task queue benchmark sets up: state stores in a SQLite file under bench/out/ or a
// private PostgreSQL schema (dropped afterwards), Executor clients with the executor:run role,
// task definitions as the run machinery makes them (an evaluate task of examples/shop's
// daily_revenue, about 3 KB of JSON), single ready tasks and layered DAGs of tasks.
import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { loadProject } from '../dist/project/project-loader.js';
import { createClient } from '../dist/scheduler/auth/client-registry.js';
import { formatKeyRing } from '../dist/state/crypto/key-ring.js';
import { openStateStore } from '../dist/state/open-state-store.js';

export const OUT = resolve('bench', 'out', 'task-queue');
export const DEFAULT_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/test';
export const EXECUTORS = 8;

/** The key ring of every store the benchmark opens, and its text for SLUICE_STATE_KEYS. */
export const ring = (() => {
  const key = { id: 'bench', secret: randomBytes(32) };
  return { active: key, keys: new Map([[key.id, key]]) };
})();
export const ringText = formatKeyRing(ring).trim();

/** A fresh location: a new file under bench/out/, or a new private schema. */
export async function freshLocation(backend, postgresUrl) {
  const name = `sluice_bench_${randomBytes(4).toString('hex')}`;
  if (backend === 'postgres') return { backend, url: postgresUrl, schema: name };
  await mkdir(OUT, { recursive: true });
  return { backend, path: join(OUT, `${name}.db`) };
}

/** The location as `--state` takes it. */
export function stateUrlOf(location) {
  if (location.backend === 'sqlite') return `sqlite://${location.path}`;
  const url = new URL(location.url);
  url.searchParams.set('schema', location.schema);
  return url.toString();
}

/** Opens (and migrates) the store at `location`. */
export function openStore(location) {
  return openStateStore({ location, keyRing: ring, shouldMigrate: true });
}

/** Removes what `freshLocation` made: the schema, or the file and its journal. */
export async function removeLocation(location) {
  if (location.backend === 'sqlite') {
    for (const suffix of ['', '-wal', '-shm', '-journal']) {
      await rm(`${location.path}${suffix}`, { force: true });
    }
    return;
  }
  await withPostgres(location.url, (client) =>
    client.query(`DROP SCHEMA IF EXISTS "${location.schema}" CASCADE`),
  );
}

/** Runs `work` with one connection to `url`. */
export async function withPostgres(url, work) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Empty when PostgreSQL answers at `url`; otherwise why its figures are skipped. */
export async function postgresSkipReason(url) {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    return '';
  } catch (error) {
    return `PostgreSQL did not answer (${error.code ?? 'connection failed'})`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** `count` OAuth clients with the executor:run role, each with its secret. */
export async function createExecutorClients(store, count = EXECUTORS) {
  const clients = [];
  for (let index = 0; index < count; index++) {
    const clientId = `bench-executor-${index}`;
    const issued = await createClient(store, { clientId, roles: ['executor:run'], actor: 'bench' });
    clients.push({ id: clientId, secret: issued.secret });
  }
  return clients;
}

/** A task definition maker: the shape and size of a real evaluate task, with its own id. */
export async function taskDefinitions() {
  const project = await loadProject(resolve('examples', 'shop'), { useCache: false });
  const model = project.models.get('shop.daily_revenue');
  const models = [model, ...model.dependencies.map((name) => project.models.get(name))];
  const tables = Object.fromEntries(
    models.map((each) => [each.name, { schema: 'sluice__shop', name: `${each.name}__1a2b3c4d` }]),
  );
  const day = Date.UTC(2026, 0, 1);
  return (id, runId) => ({
    id,
    runId,
    kind: 'evaluate',
    pool: 'run',
    modelName: model.name,
    snapshotId: 'snap-daily-revenue',
    versionId: '1a2b3c4d',
    interval: { startMs: day, endMs: day + 86_400_000 },
    executionTimeMs: day + 86_400_000,
    context: { projectName: 'shop', gateway: 'local', variables: {}, models, tables },
  });
}

/** One ready task of the `run` pool, as the queue takes it. */
export function readyTask(definitionOf, id, runId) {
  return {
    id,
    runId,
    pool: 'run',
    definition: definitionOf(id, runId),
    gateway: 'local',
    modelName: 'shop.daily_revenue',
    priority: 0,
    maxAttempts: 3,
  };
}

/**
 * `count` tasks in layers of `width`: every task after the first layer depends on the task in
 * the same place of the layer before and, with `upstreamCount` 2, on one other task of it, so
 * each completion may release downstream work. Listed layer by layer, upstream first.
 */
export function layeredDag(definitionOf, { count, width, upstreamCount, runId }) {
  const idOf = (layer, place) => `${runId}-l${layer}-${place}`;
  const tasks = [];
  for (let index = 0; index < count; index++) {
    const layer = Math.floor(index / width);
    const place = index % width;
    const upstream =
      layer === 0 ? [] : [idOf(layer - 1, place), idOf(layer - 1, (place * 7 + 3) % width)];
    tasks.push({
      ...readyTask(definitionOf, idOf(layer, place), runId),
      dependsOn: [...new Set(upstream.slice(0, upstreamCount))],
    });
  }
  return tasks;
}

export function percentile(values, fraction) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))];
}

export function median(values) {
  return percentile(values, 0.5);
}

export function sleep(ms) {
  return new Promise((resolvePromise) => setTimeout(resolvePromise, ms));
}
