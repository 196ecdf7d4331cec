import type { TaskPool } from '../../core/task-pool.js';
import type { StateStore } from '../state-store.js';
import { EXECUTORS_TABLE } from './task-rows.js';

/**
 * The Executors that said hello: who they authenticate as, their pools and slots, the protocol
 * version chosen for them, and when each was last heard from.
 */

/** An Executor as the Scheduler knows it. */
export type ExecutorRecord = {
  readonly id: string;
  readonly clientId: string;
  readonly pools: readonly TaskPool[];
  readonly slots: number;
  readonly protocolVersion: number;
  /** What the Executor says it is, such as `sluice/0.1.0`. */
  readonly agent: string;
  readonly startedAtMs: number;
  readonly lastSeenAtMs: number;
};

/** Records a hello: a new Executor, or one that started again under the same id. */
export async function recordExecutorHello(
  store: StateStore,
  executor: ExecutorRecord,
): Promise<void> {
  const values = {
    client_id: executor.clientId,
    pools: executor.pools.join(','),
    slots: executor.slots,
    protocol_version: executor.protocolVersion,
    agent: executor.agent,
    started_at_ms: executor.startedAtMs,
    last_seen_at_ms: executor.lastSeenAtMs,
  };
  await store.db
    .insertInto(EXECUTORS_TABLE)
    .values({ id: executor.id, ...values })
    .onConflict((conflict) => conflict.column('id').doUpdateSet(values))
    .execute();
}

/** Notes that an Executor was heard from. */
export async function touchExecutor(store: StateStore, id: string, nowMs: number): Promise<void> {
  await store.db
    .updateTable(EXECUTORS_TABLE)
    .set({ last_seen_at_ms: nowMs })
    .where('id', '=', id)
    .execute();
}

/** The Executor with this id, if it said hello. */
export async function readExecutor(
  store: StateStore,
  id: string,
): Promise<ExecutorRecord | undefined> {
  const row = await store.db
    .selectFrom(EXECUTORS_TABLE)
    .selectAll()
    .where('id', '=', id)
    .executeTakeFirst();
  return row === undefined ? undefined : executorOf(row);
}

/** Every Executor that said hello, most recently seen first. */
export async function listExecutors(store: StateStore): Promise<ExecutorRecord[]> {
  const rows = await store.db
    .selectFrom(EXECUTORS_TABLE)
    .selectAll()
    .orderBy('last_seen_at_ms', 'desc')
    .execute();
  return rows.map(executorOf);
}

function executorOf(row: Record<string, unknown>): ExecutorRecord {
  return {
    id: String(row.id),
    clientId: String(row.client_id),
    pools: String(row.pools).split(',') as TaskPool[],
    slots: Number(row.slots),
    protocolVersion: Number(row.protocol_version),
    agent: String(row.agent),
    startedAtMs: Number(row.started_at_ms),
    lastSeenAtMs: Number(row.last_seen_at_ms),
  };
}
