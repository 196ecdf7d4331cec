// One measured run of the plan benchmark in a fresh process: `load` loads the project only;
// `plan` loads it, computes its snapshots and makes a plan for prod against the state store.
// Prints what it measured as one JSON line.
import { SILENT_LOGGER } from '../dist/core/logger.js';
import { loadProject } from '../dist/project/project-loader.js';
import { snapshotsOfProject } from '../dist/project/project-snapshots.js';
import { makePlan } from '../dist/scheduler/plans/make-plan.js';
import { openStateStore } from '../dist/state/open-state-store.js';

const [dir, mode, statePath, keyHex] = process.argv.slice(2);
const started = performance.now();
const project = await loadProject(dir, { useCache: false, logger: SILENT_LOGGER });
const loadMs = performance.now() - started;
if (mode === 'load') {
  process.stdout.write(`${JSON.stringify({ loadMs, totalMs: loadMs })}\n`);
  process.exit(0);
}

const snapshotsStarted = performance.now();
const snapshots = await snapshotsOfProject(project, undefined);
const snapshotsMs = performance.now() - snapshotsStarted;
const key = { id: 'bench', secret: Buffer.from(keyHex, 'hex') };
const store = await openStateStore({
  location: { backend: 'sqlite', path: statePath },
  keyRing: { active: key, keys: new Map([[key.id, key]]) },
  shouldMigrate: false,
});
const planStarted = performance.now();
const draft = await makePlan(store, {
  environment: 'prod',
  project: snapshots,
  order: project.dag.nodes,
  identifierLimitBytes: undefined,
  options: {
    range: undefined,
    isForwardOnly: false,
    restateModels: [],
    shouldSkipBackfill: false,
    selectModels: [],
  },
  now: new Date(),
});
const planMs = performance.now() - planStarted;
await store.close();
process.stdout.write(
  `${JSON.stringify({
    loadMs,
    snapshotsMs,
    planMs,
    totalMs: performance.now() - started,
    changes: draft.plan.changes.length,
    backfills: draft.plan.backfills.length,
  })}\n`,
);
