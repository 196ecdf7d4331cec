import { SluiceError } from '../../core/errors.js';
import type { Snapshot } from '../../core/snapshot.js';
import {
  type EnvironmentTarget,
  readEnvironment,
  readEnvironmentTarget,
} from '../../state/environment-store.js';
import type { RunKind } from '../../state/runs/run-store.js';
import { readSnapshots } from '../../state/snapshot-store.js';
import type { StateStore } from '../../state/state-store.js';
import { buildRunGraph, type RunNode } from './run-graph.js';
import type { RunService } from './run-service.js';
import type { ModelResult } from './run-state.js';
import { snapshotOrder } from './snapshot-order.js';

/**
 * Runs of an environment as its last plan promoted it: what is due now for its models, in
 * dependency order, on the `run` pool. The cadence asks for the models whose cron ticked; a
 * person asks for all of them, or for some (re-running what failed).
 */

/** A run of an environment to start. */
export type EnvironmentRunRequest = {
  readonly environment: string;
  readonly kind: Extract<RunKind, 'cadence' | 'manual'>;
  readonly requestedBy: string;
  /** Only these models; all of the environment's when undefined. */
  readonly modelNames?: readonly string[];
  /** The run's clock: what is due at this instant runs. */
  readonly nowMs: number;
};

/** An environment's snapshots by model name, and where its work runs. */
export type EnvironmentWork = {
  readonly snapshots: ReadonlyMap<string, Snapshot>;
  readonly target: EnvironmentTarget;
};

/** Starts the run; resolves with its id once it is recorded. */
export async function startEnvironmentRun(
  runs: RunService,
  store: StateStore,
  request: EnvironmentRunRequest,
): Promise<string> {
  const { snapshots, target } = await environmentWork(store, request.environment);
  const whole = buildRunGraph(snapshots, snapshotOrder(snapshots), {
    projectName: target.projectName,
    gateway: target.gateway,
  });
  const graph = request.modelNames === undefined ? whole : narrowGraph(whole, request);

  const { runId } = await runs.start(
    {
      kind: request.kind,
      environment: request.environment,
      pool: 'run',
      requestedBy: request.requestedBy,
      gateway: target.gateway,
    },
    async (run) => {
      const models = await run.runGraph({ graph, nowMs: request.nowMs });
      return { status: hasFailures(models) ? 'failed' : 'succeeded', summary: { models } };
    },
  );
  return runId;
}

/** The environment's snapshots and target; a clear error when either is missing. */
export async function environmentWork(
  store: StateStore,
  environment: string,
): Promise<EnvironmentWork> {
  const record = await readEnvironment(store, environment);
  if (record === undefined) {
    throw new SluiceError(
      'environment_not_found',
      `Environment '${environment}' does not exist; create it with 'sluice plan ${environment}'`,
    );
  }
  const target = await readEnvironmentTarget(store, environment);
  if (target === undefined) {
    throw new SluiceError(
      'usage',
      `Environment '${environment}' was last applied by the CLI on its own, so the Scheduler ` +
        `does not know which gateway runs it; apply a plan to it through the Scheduler ` +
        `('sluice plan ${environment}' with SLUICE_URL set) first`,
    );
  }
  const byId = await readSnapshots(store, Object.values(record.snapshotIds));
  const snapshots = new Map([...byId.values()].map((snapshot) => [snapshot.name, snapshot]));
  return { snapshots, target };
}

/** Whether any model of a run failed or was skipped. */
export function hasFailures(models: readonly ModelResult[]): boolean {
  return models.some((model) => model.outcome === 'failed' || model.outcome === 'skipped');
}

/**
 * The part of a run graph holding only the requested models; a model's parents outside it count
 * as done. Tasks keep the whole environment's context, so they still find their parents' tables.
 */
function narrowGraph(
  graph: ReadonlyMap<string, RunNode>,
  request: EnvironmentRunRequest,
): Map<string, RunNode> {
  const names = new Set(request.modelNames);
  for (const name of names) {
    if (graph.has(name)) continue;
    throw new SluiceError(
      'usage',
      `Environment '${request.environment}' has no model '${name}'; ` +
        `'sluice environments show ${request.environment}' lists its models`,
    );
  }
  const narrowed = new Map<string, RunNode>();
  for (const [name, node] of graph) {
    if (!names.has(name)) continue;
    narrowed.set(name, {
      ...node,
      parents: node.parents.filter((parent) => names.has(parent)),
      children: node.children.filter((child) => names.has(child)),
    });
  }
  return narrowed;
}

/**
 * How long a development environment lives unused, as its last promotion set it (its expiry
 * less its last use); undefined for one that never expires.
 */
export function environmentTtlMsOf(record: {
  readonly lastUsedAt: string;
  readonly expiresAt: string | undefined;
}): number | undefined {
  if (record.expiresAt === undefined) return undefined;
  return Math.max(1, Date.parse(record.expiresAt) - Date.parse(record.lastUsedAt));
}
