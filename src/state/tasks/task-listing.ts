import { SluiceError } from '../../core/errors.js';
import type { TaskPool } from '../../core/task-pool.js';
import type { StateStore } from '../state-store.js';
import { definitionAddress, type QueuedTaskStatus, TASKS_TABLE } from './task-rows.js';

/**
 * Reading the tasks of a run for people: each task's place in the queue, and what it does (its
 * kind, model and interval, read from its definition), in the order the run queued them, a page
 * at a time.
 */

/** What a listed task does, as its definition says. */
export type ListedTaskWork = {
  readonly kind: string;
  /** The interval an evaluate or audit task covers; undefined for other tasks. */
  readonly interval: { readonly startMs: number; readonly endMs: number } | undefined;
};

/** A task of a run, as listed. */
export type ListedTask = ListedTaskWork & {
  readonly id: string;
  readonly runId: string;
  readonly pool: TaskPool;
  readonly modelName: string | undefined;
  readonly status: QueuedTaskStatus;
  readonly attempt: number;
  readonly maxAttempts: number;
  readonly createdAtMs: number;
  readonly finishedAtMs: number | undefined;
  readonly readyAtMs: number;
};

/** Which tasks of a run to list: optionally of one status, after a task of an earlier page. */
export type RunTaskQuery = {
  readonly status?: QueuedTaskStatus;
  readonly limit: number;
  /** Only tasks queued after this task of the run (paging). */
  readonly afterTaskId?: string;
};

const COLUMNS = [
  'id',
  'run_id',
  'pool',
  'model_name',
  'status',
  'attempt',
  'max_attempts',
  'created_at_ms',
  'finished_at_ms',
  'ready_at_ms',
  'definition',
] as const;

/** The tasks of a run in the order they were queued; empty when the run has none. */
export async function listRunTasks(
  store: StateStore,
  runId: string,
  query: RunTaskQuery,
): Promise<ListedTask[]> {
  let select = store.db.selectFrom(TASKS_TABLE).select(COLUMNS).where('run_id', '=', runId);
  if (query.status !== undefined) select = select.where('status', '=', query.status);
  if (query.afterTaskId !== undefined) {
    const afterId = query.afterTaskId;
    const atMs = await queuedAtMs(store, runId, afterId);
    select = select.where((where) =>
      where.or([
        where('created_at_ms', '>', atMs),
        where.and([where('created_at_ms', '=', atMs), where('id', '>', afterId)]),
      ]),
    );
  }
  const rows = await select.orderBy('created_at_ms').orderBy('id').limit(query.limit).execute();
  return rows.map((row) => listedTaskOf(store, row));
}

/** The task with this id; undefined when there is none. */
export async function readListedTask(
  store: StateStore,
  taskId: string,
): Promise<ListedTask | undefined> {
  const row = await store.db
    .selectFrom(TASKS_TABLE)
    .select(COLUMNS)
    .where('id', '=', taskId)
    .executeTakeFirst();
  return row === undefined ? undefined : listedTaskOf(store, row);
}

async function queuedAtMs(store: StateStore, runId: string, taskId: string): Promise<number> {
  const row = await store.db
    .selectFrom(TASKS_TABLE)
    .select('created_at_ms')
    .where('id', '=', taskId)
    .where('run_id', '=', runId)
    .executeTakeFirst();
  if (row === undefined) {
    throw new SluiceError(
      'request_invalid',
      `Task '${taskId}' is not a task of run ${runId}; page with the 'next' of the run's ` +
        'previous page of tasks',
    );
  }
  return Number(row.created_at_ms);
}

function listedTaskOf(store: StateStore, row: Record<string, unknown>): ListedTask {
  const id = String(row.id);
  return {
    id,
    runId: String(row.run_id),
    pool: String(row.pool) as TaskPool,
    modelName: row.model_name === null ? undefined : String(row.model_name),
    status: String(row.status) as QueuedTaskStatus,
    attempt: Number(row.attempt),
    maxAttempts: Number(row.max_attempts),
    createdAtMs: Number(row.created_at_ms),
    finishedAtMs: row.finished_at_ms === null ? undefined : Number(row.finished_at_ms),
    readyAtMs: Number(row.ready_at_ms),
    ...workOf(store, id, row.definition as Buffer),
  };
}

/**
 * The kind and interval of a task, from its encrypted definition. This decrypts and parses the
 * whole definition (it carries the model's rendering context) for two small fields, so listing
 * costs more than the rows alone; `kind` and interval columns on the tasks table, filled when a
 * task is queued, would remove that.
 */
function workOf(store: StateStore, taskId: string, definition: Buffer): ListedTaskWork {
  const task = JSON.parse(store.cipher.decryptText(definition, definitionAddress(taskId))) as {
    kind?: unknown;
    interval?: { startMs?: unknown; endMs?: unknown } | null;
  };
  const { startMs, endMs } = task.interval ?? {};
  const hasInterval = typeof startMs === 'number' && typeof endMs === 'number';
  return {
    kind: typeof task.kind === 'string' ? task.kind : 'unknown',
    interval: hasInterval ? { startMs, endMs } : undefined,
  };
}
