// Benchmark: planning one changed model in a generated project, against the cold load of the same
// project. The state store (encrypted SQLite) holds prod with every model of the project promoted
// and every interval processed; then one model in the middle of the graph gets a changed
// constant, which makes it and its downstream models new versions. Each measured run is a fresh
// process: `load` only loads the project (cold, no parser cache); `plan` loads it, fingerprints
// it and makes the plan. Runs alternate, side by side; medians are reported.
// Usage: npm run build && node bench/plan.mjs [MODELS] [REPEAT]
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { SILENT_LOGGER } from '../dist/core/logger.js';
import { versionIdOf } from '../dist/core/snapshot.js';
import { loadProject } from '../dist/project/project-loader.js';
import { snapshotsOfProject } from '../dist/project/project-snapshots.js';
import { recordPromotion } from '../dist/state/environment-store.js';
import { openStateStore } from '../dist/state/open-state-store.js';
import { markTableCreated, saveSnapshots } from '../dist/state/snapshot-store.js';
import { addProcessedRanges } from '../dist/state/version-intervals.js';
import { generateProject } from './generate-project.mjs';

const YEAR_2100_MS = Date.UTC(2100, 0, 1);

/** Runs the benchmark; one row per kind of run, medians in milliseconds. */
export async function benchPlan({ modelCount, repeat }) {
  const dir = resolve('bench', 'out', `plan-${modelCount}`);
  const statePath = join(dir, 'state.db');
  const keyHex = process.env.SLUICE_BENCH_KEY_HEX ?? randomBytes(32).toString('hex');
  await generateProject(dir, modelCount);
  await promoteEverything(dir, statePath, keyHex);
  const changed = await changeOneModel(dir, modelCount);

  const loads = [];
  const plans = [];
  for (let round = 0; round < repeat; round++) {
    loads.push(runChild(dir, 'load', statePath, keyHex));
    plans.push(runChild(dir, 'plan', statePath, keyHex));
  }
  if (process.env.SLUICE_BENCH_KEEP === undefined) await rm(dir, { recursive: true, force: true });

  const loadMs = median(loads.map((run) => run.totalMs));
  const planTotalMs = median(plans.map((run) => run.totalMs));
  return [
    { run: 'load only (cold)', models: modelCount, 'median ms': Math.round(loadMs) },
    {
      run: `plan with ${changed} changed`,
      models: modelCount,
      'median ms': Math.round(planTotalMs),
      'of which load / snapshots / makePlan ms': [
        median(plans.map((run) => run.loadMs)),
        median(plans.map((run) => run.snapshotsMs)),
        median(plans.map((run) => run.planMs)),
      ]
        .map(Math.round)
        .join(' / '),
      'plan - load ms': Math.round(planTotalMs - loadMs),
      changes: plans[0].changes,
      backfills: plans[0].backfills,
    },
  ];
}

async function promoteEverything(dir, statePath, keyHex) {
  const project = await loadProject(dir, { useCache: false, logger: SILENT_LOGGER });
  const snapshots = await snapshotsOfProject(project, undefined);
  const key = { id: 'bench', secret: Buffer.from(keyHex, 'hex') };
  const store = await openStateStore({
    location: { backend: 'sqlite', path: statePath },
    keyRing: { active: key, keys: new Map([[key.id, key]]) },
    shouldMigrate: true,
  });
  try {
    await saveSnapshots(store, [...snapshots.values()]);
    for (const snapshot of snapshots.values()) {
      await markTableCreated(store, versionIdOf(snapshot));
      await addProcessedRanges(store, versionIdOf(snapshot), [[0, YEAR_2100_MS]]);
    }
    await recordPromotion(store, {
      name: 'prod',
      baseRevision: 0,
      snapshotIds: Object.fromEntries([...snapshots].map(([name, s]) => [name, s.id])),
      planId: undefined,
      ttlMs: undefined,
      now: new Date(),
    });
  } finally {
    await store.close();
  }
  await rm(join(dir, '.sluice'), { recursive: true, force: true });
}

/** Changes a constant in the model at the middle of the project; returns its name. */
async function changeOneModel(dir, modelCount) {
  const index = Math.floor(modelCount / 2);
  const file = join(dir, 'models', `model_${index}.sql`);
  const text = await readFile(file, 'utf8');
  await writeFile(file, text.replace("THEN 'high'", "THEN 'higher'"));
  return `model_${index}`;
}

function runChild(dir, mode, statePath, keyHex) {
  const output = execFileSync(
    process.execPath,
    ['bench/plan-child.mjs', dir, mode, statePath, keyHex],
    { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 },
  );
  return JSON.parse(output);
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const modelCount = Number(process.argv[2] ?? 5000);
  const repeat = Number(process.argv[3] ?? 5);
  console.table(await benchPlan({ modelCount, repeat }));
}
