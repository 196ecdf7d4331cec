import { SluiceError } from '../../core/errors.js';
import type { TaskPool } from '../../core/task-pool.js';
import type { StateStore } from '../state-store.js';
import type { PayloadAddress } from '../state-types.js';
import { internalsOf } from '../store-internals.js';

/**
 * Runs as the Scheduler records them: who asked, which Scheduler coordinates the run and when it
 * last said so, how it ended and its results (encrypted: error messages may quote data). A run
 * whose coordinator stopped saying so is marked abandoned by any Scheduler that notices.
 */

export const RUNS_TABLE = 'sluice_runs';

/** Why a run exists: a plan being applied, a cadence tick, or a person asking. */
export type RunKind = 'apply' | 'cadence' | 'manual';

/** Where a run is; every status but `running` is final. */
export type RunStatus = 'running' | 'succeeded' | 'failed' | 'cancelled' | 'abandoned';

/** A run to record as it starts. */
export type NewRun = {
  readonly id: string;
  readonly kind: RunKind;
  readonly environment: string;
  readonly pool: TaskPool;
  readonly planId?: string;
  readonly requestedBy: string;
  /** The Scheduler instance that coordinates the run. */
  readonly owner: string;
  readonly nowMs: number;
};

/** A recorded run. */
export type RunRecord = Omit<NewRun, 'nowMs' | 'planId'> & {
  readonly planId: string | undefined;
  readonly status: RunStatus;
  readonly ownerSeenAtMs: number;
  readonly isCancelRequested: boolean;
  readonly createdAtMs: number;
  readonly finishedAtMs: number | undefined;
  /** What the coordinator recorded when the run ended; undefined while it runs. */
  readonly summary: unknown;
};

/** Which runs to list: newest first, optionally of one environment or status. */
export type RunQuery = {
  readonly environment?: string;
  readonly status?: RunStatus;
  readonly limit: number;
  /** Only runs created before this instant (paging). */
  readonly beforeMs?: number;
};

/** Records a run that starts now. */
export async function createRun(store: StateStore, run: NewRun): Promise<void> {
  await store.db
    .insertInto(RUNS_TABLE)
    .values({
      id: run.id,
      kind: run.kind,
      environment: run.environment,
      pool: run.pool,
      status: 'running',
      plan_id: run.planId ?? null,
      requested_by: run.requestedBy,
      owner: run.owner,
      owner_seen_at_ms: run.nowMs,
      is_cancel_requested: 0,
      created_at_ms: run.nowMs,
      finished_at_ms: null,
      summary: null,
    })
    .execute();
}

/** Ends a running run with its summary; false when it had already ended (abandoned, say). */
export async function finishRun(
  store: StateStore,
  runId: string,
  outcome: { readonly status: Exclude<RunStatus, 'running'>; readonly summary: unknown },
  nowMs: number,
): Promise<boolean> {
  const result = await store.db
    .updateTable(RUNS_TABLE)
    .set({
      status: outcome.status,
      finished_at_ms: nowMs,
      summary: store.cipher.encrypt(JSON.stringify(outcome.summary), summaryAddress(runId)),
    })
    .where('id', '=', runId)
    .where('status', '=', 'running')
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Says that `owner` still coordinates its running runs. */
export async function touchOwnedRuns(store: StateStore, owner: string, nowMs: number) {
  await store.db
    .updateTable(RUNS_TABLE)
    .set({ owner_seen_at_ms: nowMs })
    .where('owner', '=', owner)
    .where('status', '=', 'running')
    .execute();
}

/** Marks abandoned the running runs whose coordinator was last seen before `staleBeforeMs`. */
export async function abandonStaleRuns(
  store: StateStore,
  staleBeforeMs: number,
  nowMs: number,
): Promise<string[]> {
  return internalsOf(store).writeTransaction(async (db) => {
    const rows = await db
      .updateTable(RUNS_TABLE)
      .set({ status: 'abandoned', finished_at_ms: nowMs })
      .where('status', '=', 'running')
      .where('owner_seen_at_ms', '<', staleBeforeMs)
      .returning('id')
      .execute();
    return rows.map((row) => String(row.id));
  });
}

/** Flags a running run for cancellation; false when it is not running. */
export async function requestRunCancel(store: StateStore, runId: string): Promise<boolean> {
  const result = await store.db
    .updateTable(RUNS_TABLE)
    .set({ is_cancel_requested: 1 })
    .where('id', '=', runId)
    .where('status', '=', 'running')
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** The run with this id; `run_not_found` when there is none. */
export async function readRun(store: StateStore, runId: string): Promise<RunRecord> {
  const row = await store.db
    .selectFrom(RUNS_TABLE)
    .selectAll()
    .where('id', '=', runId)
    .executeTakeFirst();
  if (row === undefined) {
    throw new SluiceError(
      'run_not_found',
      `There is no run '${runId}'; 'sluice runs' lists the runs the Scheduler knows`,
    );
  }
  return recordOf(store, row);
}

/** Runs, newest first. */
export async function listRuns(store: StateStore, query: RunQuery): Promise<RunRecord[]> {
  let select = store.db.selectFrom(RUNS_TABLE).selectAll();
  if (query.environment !== undefined) select = select.where('environment', '=', query.environment);
  if (query.status !== undefined) select = select.where('status', '=', query.status);
  if (query.beforeMs !== undefined) select = select.where('created_at_ms', '<', query.beforeMs);
  const rows = await select
    .orderBy('created_at_ms', 'desc')
    .orderBy('id', 'desc')
    .limit(query.limit)
    .execute();
  return rows.map((row) => recordOf(store, row));
}

function recordOf(store: StateStore, row: Record<string, unknown>): RunRecord {
  const id = String(row.id);
  const summary =
    row.summary === null
      ? undefined
      : JSON.parse(store.cipher.decryptText(row.summary as Buffer, summaryAddress(id)));
  return {
    id,
    kind: String(row.kind) as RunKind,
    environment: String(row.environment),
    pool: String(row.pool) as TaskPool,
    status: String(row.status) as RunStatus,
    planId: row.plan_id === null ? undefined : String(row.plan_id),
    requestedBy: String(row.requested_by),
    owner: String(row.owner),
    ownerSeenAtMs: Number(row.owner_seen_at_ms),
    isCancelRequested: Number(row.is_cancel_requested) === 1,
    createdAtMs: Number(row.created_at_ms),
    finishedAtMs: row.finished_at_ms === null ? undefined : Number(row.finished_at_ms),
    summary,
  };
}

function summaryAddress(runId: string): PayloadAddress {
  return { table: RUNS_TABLE, column: 'summary', rowId: runId };
}
