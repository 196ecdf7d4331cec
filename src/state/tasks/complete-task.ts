import { sql } from 'kysely';
import { type BackoffPolicy, backoffDelayMs } from '../../core/backoff.js';
import type { TaskPool } from '../../core/task-pool.js';
import type { StateStore } from '../state-store.js';
import { internalsOf } from '../store-internals.js';
import { addProcessedRangesIn } from '../version-intervals.js';
import { type AttemptPricing, recordAttemptCost } from './attempt-pricing.js';
import { succeedOnPostgres } from './postgres-completion.js';
import { type HeldTask, type LeaseCall, refusal, requireHeldTask } from './task-holder.js';
import {
  ATTEMPTS_TABLE,
  attemptIdOf,
  completionAddress,
  type Db,
  directDownstream,
  isPostgres,
  releaseUnblocked,
  skipDownstream,
  TASKS_TABLE,
} from './task-rows.js';
import { notifyInTransaction, signalInProcess } from './task-signals.js';

/**
 * Completion: accepted once, at the current epoch, from the lease holder, and remembered under
 * its idempotency key so that a replay (the Executor did not see the first answer) gets the same
 * answer instead of a 409. A success makes ready the tasks that waited only for it; a retryable
 * failure with attempts left returns the task to the queue after a backoff with jitter; any other
 * failure is final and skips every task downstream of it, and nothing else. On PostgreSQL a
 * success, the common case, is one statement (postgres-completion.ts).
 */

/** What the queue needs to know of an outcome: did it succeed, and may a failure be retried. */
export type TaskVerdict =
  | { readonly status: 'succeeded' }
  | { readonly status: 'failed'; readonly isRetryable: boolean };

/** A completion as the Executor reports it. */
export type CompletionRequest = LeaseCall & {
  readonly idempotencyKey: string;
  readonly verdict: TaskVerdict;
  /** The outcome as reported (result, error, cost), stored encrypted and kept as given. */
  readonly report: unknown;
  readonly retry: BackoffPolicy;
  /** The jitter's source of randomness, `[0, 1)`; tests pass a fixed one. */
  readonly random?: () => number;
  /**
   * The attempt's usage and the rates to price it with; its cost row is written in the same
   * transaction, so a replay (answered from the stored completion) is never priced again.
   */
  readonly pricing?: AttemptPricing;
};

/** What became of the task. */
export type CompletionAnswer = {
  readonly taskStatus: 'succeeded' | 'failed' | 'retrying' | 'cancelled';
  /** When a retried task is ready again; null otherwise. */
  readonly retryAtMs: number | null;
  /** How many tasks downstream were skipped because of this failure. */
  readonly skippedTasks: number;
};

type StoredCompletion = { readonly answer: CompletionAnswer; readonly report: unknown };

type Decided = { readonly answer: CompletionAnswer; readonly pools: readonly TaskPool[] };

/** Records the completion, or returns the answer already given under the same key. */
export async function completeTask(
  store: StateStore,
  request: CompletionRequest,
): Promise<CompletionAnswer> {
  const succeeded = await succeedInOneStatement(store, request);
  if (succeeded !== undefined) return succeeded;

  const decided = await internalsOf(store).writeTransaction(async (db) => {
    const replayed = await replayedAnswer(store, db, request);
    if (replayed !== undefined) return { answer: replayed, pools: [] };

    const task = await requireHeldTask(store, db, request);
    const result = await decide(store, db, task, request);
    await recordCompletion(store, db, request, result.answer);
    if (request.pricing !== undefined) {
      await recordAttemptCost(db, { ...request, attempt: task.attempt }, request.pricing);
    }
    await notifyInTransaction(store, db, result.pools);
    return result;
  });
  signalInProcess(store, decided.pools);
  return decided.answer;
}

/**
 * A success on PostgreSQL as one statement (postgres-completion.ts), which does what `decide`,
 * `recordCompletion` and the pricing do for a success; a step added to those for successes must
 * be added there too, or make the tasks it concerns take this general path. Undefined when the
 * statement changed nothing and left the completion to the general path (see there why).
 */
async function succeedInOneStatement(
  store: StateStore,
  request: CompletionRequest,
): Promise<CompletionAnswer | undefined> {
  if (!isPostgres(store) || request.verdict.status !== 'succeeded') return undefined;

  const answer = answerOf('succeeded');
  const completion = sealCompletion(store, request, answer);
  const pools = await succeedOnPostgres(store, { ...request, completion });
  if (pools === undefined) return undefined;
  signalInProcess(store, pools);
  return answer;
}

/** The answer stored under the request's key, when this caller completed the task before. */
async function replayedAnswer(
  store: StateStore,
  db: Db,
  request: CompletionRequest,
): Promise<CompletionAnswer | undefined> {
  const row = await db
    .selectFrom(ATTEMPTS_TABLE)
    .select(['id', 'owner', 'completion'])
    .where('task_id', '=', request.taskId)
    .where('completion_key', '=', request.idempotencyKey)
    .executeTakeFirst();
  if (row === undefined) return undefined;
  if (row.owner !== request.owner) throw await refusal(db, request);

  const address = completionAddress(String(row.id));
  const stored = JSON.parse(store.cipher.decryptText(row.completion as Buffer, address));
  return (stored as StoredCompletion).answer;
}

async function decide(
  store: StateStore,
  db: Db,
  task: HeldTask,
  request: CompletionRequest,
): Promise<Decided> {
  const { verdict, nowMs } = request;
  if (verdict.status === 'succeeded') {
    await finish(db, task.id, 'succeeded', nowMs);
    // Recorded here, in the completion's transaction, the interval stays done whatever becomes of
    // the run that queued the task.
    const recorded = task.recordsOnSuccess;
    if (recorded !== undefined) {
      await addProcessedRangesIn(db, store, recorded.versionId, [recorded.range]);
    }
    const pools = await releaseUnblocked(db, await directDownstream(db, task.id), nowMs);
    // A finished task frees a concurrency slot, which may let a capped task through.
    return { answer: answerOf('succeeded'), pools: [...pools, task.pool] };
  }

  if (task.isCancelRequested) {
    await finish(db, task.id, 'cancelled', nowMs);
    const skippedTasks = await skipDownstream(db, [task.id], nowMs);
    return { answer: { ...answerOf('cancelled'), skippedTasks }, pools: [task.pool] };
  }

  if (verdict.isRetryable && task.attempt < task.maxAttempts) {
    const retryAtMs = nowMs + backoffDelayMs(task.attempt, request.retry, request.random);
    await requeue(db, task.id, retryAtMs);
    return { answer: { ...answerOf('retrying'), retryAtMs }, pools: [task.pool] };
  }

  await finish(db, task.id, 'failed', nowMs);
  const skippedTasks = await skipDownstream(db, [task.id], nowMs);
  return { answer: { ...answerOf('failed'), skippedTasks }, pools: [task.pool] };
}

function answerOf(taskStatus: CompletionAnswer['taskStatus']): CompletionAnswer {
  return { taskStatus, retryAtMs: null, skippedTasks: 0 };
}

/** Ends a task in a final status and clears its lease. */
export async function finish(
  db: Db,
  taskId: string,
  status: 'succeeded' | 'failed' | 'cancelled',
  nowMs: number,
): Promise<void> {
  await db
    .updateTable(TASKS_TABLE)
    .set({ status, lease_expires_at_ms: null, finished_at_ms: nowMs })
    .where('id', '=', taskId)
    .execute();
}

/**
 * Returns a task to the queue, claimable from `readyAtMs`; a released task gets its attempt
 * back, since the claim that ended did not try it.
 */
export async function requeue(
  db: Db,
  taskId: string,
  readyAtMs: number,
  options: { readonly isAttemptReturned?: boolean } = {},
): Promise<void> {
  await db
    .updateTable(TASKS_TABLE)
    .set((set) => ({
      status: 'ready',
      owner: null,
      executor_id: null,
      lease_expires_at_ms: null,
      ready_at_ms: readyAtMs,
      ...(options.isAttemptReturned === true
        ? { attempt: sql<number>`${set.ref('attempt')} - 1` }
        : {}),
    }))
    .where('id', '=', taskId)
    .execute();
}

async function recordCompletion(
  store: StateStore,
  db: Db,
  request: CompletionRequest,
  answer: CompletionAnswer,
): Promise<void> {
  await db
    .updateTable(ATTEMPTS_TABLE)
    .set({
      ended_at_ms: request.nowMs,
      ended_as: 'completed',
      completion_key: request.idempotencyKey,
      completion: sealCompletion(store, request, answer),
    })
    .where('id', '=', attemptIdOf(request.taskId, request.epoch))
    .execute();
}

/** The completion as stored: the answer given and the report, encrypted for the attempt's row. */
function sealCompletion(
  store: StateStore,
  request: CompletionRequest,
  answer: CompletionAnswer,
): Buffer {
  const attemptId = attemptIdOf(request.taskId, request.epoch);
  const stored: StoredCompletion = { answer, report: request.report };
  return store.cipher.encrypt(JSON.stringify(stored), completionAddress(attemptId));
}
