import { randomUUID } from 'node:crypto';
import type { Logger } from '../core/logger.js';
import type { EngineAdapter } from '../engines/engine-adapter.js';
import { runTaskLoop } from '../executor/tasks/task-loop.js';
import { runTask } from '../executor/tasks/task-runner.js';
import type { TaskPool } from '../protocol/task.js';
import {
  type ModelResult,
  RunCoordinator,
  type RunEvent,
  type RunOptions,
} from '../scheduler/runs/run-coordinator.js';
import type { RunNode } from '../scheduler/runs/run-graph.js';
import { InMemoryTaskQueue } from '../scheduler/runs/task-queue.js';
import { leaseOwnerOf } from '../scheduler/runs/version-lease.js';
import type { SqlParser } from '../sql/sql-parser.js';
import type { StateStore } from '../state/state-store.js';

/** How long a version's lease lasts without renewal, and how often a waiting run asks again. */
const LEASE_TTL_MS = 30_000;
const LEASE_POLL_MS = 500;

/** What a run in this process needs. */
export type LocalRunOptions = {
  readonly store: StateStore;
  readonly graph: ReadonlyMap<string, RunNode>;
  readonly adapter: EngineAdapter;
  readonly parser: SqlParser;
  readonly pool: TaskPool;
  /** How many tasks run at once. */
  readonly slots: number;
  readonly nowMs: number;
  readonly signal: AbortSignal;
  readonly logger: Logger;
  readonly onEvent?: (event: RunEvent) => void;
} & Pick<RunOptions, 'limitRange' | 'shouldSkipBackfill' | 'forwardOnlyIds'>;

/** A finished run: its id and every model's result. */
export type LocalRunResult = { readonly runId: string; readonly models: readonly ModelResult[] };

/**
 * Runs a graph in this process: the Scheduler's run coordinator feeds an in-memory queue and the
 * Executor's task loop pulls from it and runs each task on the engine, the same two parts that
 * talk over HTTP when the Scheduler and Executors are separate processes.
 */
export async function runLocally(options: LocalRunOptions): Promise<LocalRunResult> {
  const runId = randomUUID();
  const logger = options.logger.child({ runId });
  const coordinator = new RunCoordinator(options.store, new InMemoryTaskQueue(), options.graph, {
    runId,
    pool: options.pool,
    nowMs: options.nowMs,
    lease: { owner: leaseOwnerOf(runId), ttlMs: LEASE_TTL_MS, pollMs: LEASE_POLL_MS },
    logger,
    signal: options.signal,
    ...(options.onEvent === undefined ? {} : { onEvent: options.onEvent }),
    ...(options.limitRange === undefined ? {} : { limitRange: options.limitRange }),
    ...(options.shouldSkipBackfill === undefined
      ? {}
      : { shouldSkipBackfill: options.shouldSkipBackfill }),
    ...(options.forwardOnlyIds === undefined ? {} : { forwardOnlyIds: options.forwardOnlyIds }),
  });

  const finished = coordinator.run();
  await runTaskLoop(coordinator, {
    slots: options.slots,
    signal: options.signal,
    logger,
    runTask: (task, signal) =>
      runTask(task, { adapter: options.adapter, parser: options.parser }, signal),
  });
  return { runId, models: await finished };
}
