import { sql } from 'kysely';
import { SluiceError } from '../../core/errors.js';
import { decryptPayloadTexts } from '../payload-decryption.js';
import type { StateStore } from '../state-store.js';
import type { TaskLogLine } from './task-logs.js';
import { LOGS_TABLE, logAddress, TASKS_TABLE } from './task-rows.js';

/**
 * Searching the log lines of a task (every attempt, or one) or of a run, by a minimum level and a
 * case-insensitive substring, oldest or newest first, a page at a time.
 *
 * Lines are read in the order the Scheduler received their batches: by `received_at_ms`, then
 * task, epoch and sequence number, then the line's place in its batch. That key is plain and
 * indexed, so a page starts where the last one ended without reading what came before; the
 * lines themselves are encrypted, so the level and text filters run after decryption, which is
 * done in bulk, a chunk of batches at a time. A search that matches little could read a whole
 * run's logs for one page, so one call reads at most `maxBatches` batches and then returns what
 * it found with the position it reached; the caller continues from there.
 */

/** The levels of log lines, least severe first. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;

export type LogLevel = TaskLogLine['level'];

/** A line's place in the reading order: its batch's key and its index in the batch. */
export type LogPosition = {
  readonly receivedAtMs: number;
  readonly taskId: string;
  readonly epoch: number;
  readonly seq: number;
  readonly line: number;
};

/** Whose lines to read: one task (one attempt of it, or all), or every task of a run. */
export type LogScope =
  | { readonly taskId: string; readonly attempt?: number }
  | { readonly runId: string };

/** A search: the scope, the filters, the order and the page. */
export type LogSearch = {
  readonly scope: LogScope;
  /** Lines at this level or a more severe one; all levels when absent. */
  readonly minLevel?: LogLevel;
  /** Lines whose message holds this text, compared without regard to case. */
  readonly text?: string;
  readonly isNewestFirst?: boolean;
  /** The most lines to return. */
  readonly limit: number;
  /** Continue after this position, as a previous page's `next` gave it. */
  readonly after?: LogPosition;
  /** The most log batches one call reads; default 1,000. */
  readonly maxBatches?: number;
};

/** A line found, with the task and attempt it belongs to and its position. */
export type FoundLogLine = TaskLogLine & {
  readonly taskId: string;
  readonly attempt: number;
  readonly position: LogPosition;
};

/** A page of lines and where to continue; `next` is undefined when nothing is left to read. */
export type LogPage = { readonly lines: FoundLogLine[]; readonly next: LogPosition | undefined };

const CHUNK_BATCHES = 100;
const DEFAULT_MAX_BATCHES = 1_000;

type Batch = {
  readonly key: Omit<LogPosition, 'line'>;
  readonly attempt: number;
  readonly lines: readonly TaskLogLine[];
};

/** One page of the lines a search selects; undefined when its task or run does not exist. */
export async function searchTaskLogs(
  store: StateStore,
  search: LogSearch,
): Promise<LogPage | undefined> {
  checkSearch(search);
  if (!(await scopeExists(store, search.scope))) return undefined;

  const isWanted = lineFilter(search);
  const lines: FoundLogLine[] = [];
  const reader = batchReader(store, search);
  for await (const batch of reader.batches) {
    for (const found of linesInOrder(batch, search)) {
      if (!isWanted(found)) continue;
      lines.push(found);
      if (lines.length === search.limit) return { lines, next: found.position };
    }
  }
  return { lines, next: reader.stoppedAt() };
}

/**
 * The batches in reading order from the search's start, and where reading stopped: undefined
 * when every batch was read, else the last line of the last batch read. The batch the search
 * resumes in (its lines after the position may be left) is read first, apart; then `maxBatches`
 * at most beyond it.
 */
function batchReader(store: StateStore, search: LogSearch) {
  let stoppedAt: LogPosition | undefined;
  async function* batches(): AsyncGenerator<Batch> {
    const budget = search.maxBatches ?? DEFAULT_MAX_BATCHES;
    let from = search.after;
    if (from !== undefined) yield* await readBatches(store, search, { from, isAt: true, limit: 1 });
    for (let read = 0; read < budget; ) {
      const wanted = Math.min(CHUNK_BATCHES, budget - read);
      const chunk = await readBatches(store, search, { from, isAt: false, limit: wanted });
      yield* chunk;
      read += chunk.length;
      const last = chunk.at(-1);
      if (last === undefined || chunk.length < wanted) return;
      from = lastPositionOf(last, search);
      if (read >= budget) stoppedAt = from;
    }
  }
  return { batches: batches(), stoppedAt: () => stoppedAt };
}

/** The lines of a batch in reading order, those at or before the search's start left out. */
function linesInOrder(batch: Batch, search: LogSearch): FoundLogLine[] {
  const found = batch.lines.map((line, index) => ({
    ...line,
    taskId: batch.key.taskId,
    attempt: batch.attempt,
    position: { ...batch.key, line: index },
  }));
  if (search.isNewestFirst === true) found.reverse();

  const after = search.after;
  if (after === undefined || !isSameBatch(batch.key, after)) return found;
  return found.filter((line) =>
    search.isNewestFirst === true
      ? line.position.line < after.line
      : line.position.line > after.line,
  );
}

function lastPositionOf(batch: Batch, search: LogSearch): LogPosition {
  const line = search.isNewestFirst === true ? 0 : Math.max(batch.lines.length - 1, 0);
  return { ...batch.key, line };
}

function isSameBatch(key: Omit<LogPosition, 'line'>, position: LogPosition): boolean {
  return (
    key.receivedAtMs === position.receivedAtMs &&
    key.taskId === position.taskId &&
    key.epoch === position.epoch &&
    key.seq === position.seq
  );
}

function lineFilter(search: LogSearch): (line: TaskLogLine) => boolean {
  const minRank = search.minLevel === undefined ? 0 : LOG_LEVELS.indexOf(search.minLevel);
  const text = search.text?.toLowerCase();
  return (line) =>
    LOG_LEVELS.indexOf(line.level) >= minRank &&
    (text === undefined || line.message.toLowerCase().includes(text));
}

/** Which batches to read: the one at `from`, or those beyond it (all, without `from`). */
type ReadFrom = {
  readonly from: LogPosition | undefined;
  readonly isAt: boolean;
  readonly limit: number;
};

/** Up to `limit` batches of the scope from a position, decrypted in one bulk call. */
async function readBatches(store: StateStore, search: LogSearch, range: ReadFrom) {
  const direction = search.isNewestFirst === true ? 'desc' : 'asc';
  const rows = await store.db
    .selectFrom(LOGS_TABLE)
    .select(['id', 'task_id', 'attempt', 'epoch', 'seq', 'received_at_ms', 'lines'])
    .where(inScope(search.scope))
    .$if(range.from !== undefined, (query) => query.where(keyFrom(range, search)))
    .orderBy('received_at_ms', direction)
    .orderBy('task_id', direction)
    .orderBy('epoch', direction)
    .orderBy('seq', direction)
    .limit(range.limit)
    .execute();

  const texts = await decryptPayloadTexts(
    store,
    rows.map((row) => ({ ciphertext: row.lines as Buffer, address: logAddress(String(row.id)) })),
  );
  return rows.map((row, index) => ({
    key: {
      receivedAtMs: Number(row.received_at_ms),
      taskId: String(row.task_id),
      epoch: Number(row.epoch),
      seq: Number(row.seq),
    },
    attempt: Number(row.attempt),
    lines: JSON.parse(texts[index] ?? '[]') as TaskLogLine[],
  }));
}

/** The batches of a task (of one attempt, if given), or of every task of a run. */
function inScope(scope: LogScope) {
  if ('runId' in scope) {
    const tasksOfRun = sql`SELECT id FROM ${sql.table(TASKS_TABLE)} WHERE run_id = ${scope.runId}`;
    return sql<boolean>`task_id IN (${tasksOfRun})`;
  }
  if (scope.attempt === undefined) return sql<boolean>`task_id = ${scope.taskId}`;
  return sql<boolean>`task_id = ${scope.taskId} AND attempt = ${scope.attempt}`;
}

/** The batch at a position, or those beyond it in the search's direction: a row comparison. */
function keyFrom(range: ReadFrom, search: LogSearch) {
  const from = range.from as LogPosition;
  const beyond = search.isNewestFirst === true ? '<' : '>';
  const op = sql.raw(range.isAt ? '=' : beyond);
  const key = sql.join([from.receivedAtMs, from.taskId, from.epoch, from.seq]);
  return sql<boolean>`(received_at_ms, task_id, epoch, seq) ${op} (${key})`;
}

async function scopeExists(store: StateStore, scope: LogScope): Promise<boolean> {
  if (!('runId' in scope)) {
    const task = await store.db
      .selectFrom(TASKS_TABLE)
      .select('id')
      .where('id', '=', scope.taskId)
      .executeTakeFirst();
    return task !== undefined;
  }
  const task = await store.db
    .selectFrom(TASKS_TABLE)
    .select('id')
    .where('run_id', '=', scope.runId)
    .limit(1)
    .executeTakeFirst();
  if (task !== undefined) return true;
  const run = await store.db
    .selectFrom('sluice_runs')
    .select('id')
    .where('id', '=', scope.runId)
    .executeTakeFirst();
  return run !== undefined;
}

function checkSearch(search: LogSearch): void {
  const { limit, maxBatches } = search;
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw new SluiceError('internal', `A log search returns at least one line, not ${limit}`);
  }
  if (maxBatches !== undefined && (!Number.isSafeInteger(maxBatches) || maxBatches < 1)) {
    throw new SluiceError('internal', `A log search reads at least one batch, not ${maxBatches}`);
  }
}
