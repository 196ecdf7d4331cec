import type { Kysely } from 'kysely';
import { PostgresAdapter, sql } from 'kysely';
import type { TaskPool } from '../../core/task-pool.js';
import type { StateDatabase, StateStore } from '../state-store.js';
import type { PayloadAddress } from '../state-types.js';

/**
 * The task queue's tables and the statements its parts share: where each ciphertext lives, the
 * transitive skip of what depends on a failed task, and the release of tasks whose upstream
 * tasks have all succeeded.
 */

export const TASKS_TABLE = 'sluice_tasks';
export const DEPENDENCIES_TABLE = 'sluice_task_dependencies';
export const ATTEMPTS_TABLE = 'sluice_task_attempts';
export const LOGS_TABLE = 'sluice_task_logs';
export const EXECUTORS_TABLE = 'sluice_executors';

/**
 * Where a task is: waiting for upstream tasks (`blocked`), claimable (`ready`, from
 * `ready_at_ms` on), held by an Executor (`leased`), or finished.
 */
export type QueuedTaskStatus =
  | 'blocked'
  | 'ready'
  | 'leased'
  | 'succeeded'
  | 'failed'
  | 'skipped'
  | 'cancelled';

/** Statuses a task never leaves. */
export const FINISHED_STATUSES: readonly QueuedTaskStatus[] = [
  'succeeded',
  'failed',
  'skipped',
  'cancelled',
];

export type Db = Kysely<StateDatabase>;

/** The id of the attempt row of one claim. */
export function attemptIdOf(taskId: string, epoch: number): string {
  return `${taskId}/${epoch}`;
}

export function definitionAddress(taskId: string): PayloadAddress {
  return { table: TASKS_TABLE, column: 'definition', rowId: taskId };
}

export function completionAddress(attemptId: string): PayloadAddress {
  return { table: ATTEMPTS_TABLE, column: 'completion', rowId: attemptId };
}

export function logAddress(logId: string): PayloadAddress {
  return { table: LOGS_TABLE, column: 'lines', rowId: logId };
}

/**
 * Marks every task downstream of `taskIds`, transitively, as skipped; returns how many. Only
 * unfinished tasks change: a downstream task cannot have started, since its upstream did not
 * succeed.
 */
export async function skipDownstream(
  db: Db,
  taskIds: readonly string[],
  nowMs: number,
): Promise<number> {
  if (taskIds.length === 0) return 0;
  const result = await sql`
    WITH RECURSIVE downstream(id) AS (
      SELECT task_id FROM sluice_task_dependencies
      WHERE upstream_id IN (${sql.join(taskIds)})
      UNION
      SELECT d.task_id FROM sluice_task_dependencies d
      JOIN downstream ON d.upstream_id = downstream.id
    )
    UPDATE sluice_tasks SET status = 'skipped', finished_at_ms = ${nowMs}
    WHERE id IN (SELECT id FROM downstream) AND status IN ('blocked', 'ready')`.execute(db);
  return Number(result.numAffectedRows ?? 0n);
}

/**
 * Makes ready the blocked tasks among `candidates` whose upstream tasks have all succeeded;
 * returns the pools that gained a task.
 *
 * On PostgreSQL the candidates are locked first, in a statement of their own: two upstream tasks
 * completed at once, each in its own transaction, would otherwise both find the other one not
 * yet succeeded (each statement sees only what was committed when it began) and leave their
 * downstream task blocked for good. With the lock, the second waits for the first to commit,
 * and its check, a later statement, sees the first one's success. SQLite runs one write
 * transaction at a time, so there is nothing to lock.
 */
export async function releaseUnblocked(
  db: Db,
  candidates: readonly string[],
  nowMs: number,
): Promise<TaskPool[]> {
  if (candidates.length === 0) return [];
  if (db.getExecutor().adapter instanceof PostgresAdapter) {
    await sql`
      SELECT id FROM sluice_tasks WHERE id IN (${sql.join(candidates)}) AND status = 'blocked'
      ORDER BY id FOR UPDATE`.execute(db);
  }
  const result = await sql<{ pool: TaskPool }>`
    UPDATE sluice_tasks SET status = 'ready', ready_at_ms = ${nowMs}
    WHERE id IN (${sql.join(candidates)}) AND status = 'blocked'
    AND NOT EXISTS (
      SELECT 1 FROM sluice_task_dependencies d
      JOIN sluice_tasks upstream ON upstream.id = d.upstream_id
      WHERE d.task_id = sluice_tasks.id AND upstream.status <> 'succeeded'
    )
    RETURNING pool`.execute(db);
  return distinctPools(result.rows.map((row) => row.pool));
}

/** The tasks that depend directly on `taskId`. */
export async function directDownstream(db: Db, taskId: string): Promise<string[]> {
  const rows = await db
    .selectFrom(DEPENDENCIES_TABLE)
    .select('task_id')
    .where('upstream_id', '=', taskId)
    .execute();
  return rows.map((row) => String(row.task_id));
}

/** Each pool once, in a fixed order. */
export function distinctPools(pools: Iterable<TaskPool>): TaskPool[] {
  return [...new Set(pools)].sort();
}

/** Whether the store is PostgreSQL, where claims lock rows and skip locked ones. */
export function isPostgres(store: StateStore): boolean {
  return store.backend === 'postgres';
}
