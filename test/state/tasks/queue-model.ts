import { backoffDelayMs } from '../../../src/core/backoff.js';
import type { TaskPool } from '../../../src/core/task-pool.js';
import type { CompletionAnswer } from '../../../src/state/tasks/complete-task.js';
import type { ReapResult } from '../../../src/state/tasks/reap-tasks.js';
import type { QueuedTaskStatus } from '../../../src/state/tasks/task-rows.js';
import { RETRY } from './queue-fixture.js';

/**
 * A reference model of the task queue for the property tests: plain maps that say what each task
 * should look like after every call, which call must be refused and how, and what each Executor
 * believes it holds (a belief stays, stale or not, until a call on it is refused or it is given
 * up by a completion or release).
 */

export const LEASE_MS = 30_000;
export const START_MS = 1_800_000_000_000;

/** An Executor of the tests: the client it authenticates as and the pools it claims from. */
export type ModelExecutor = { readonly owner: string; readonly pools: readonly TaskPool[] };

export const EXECUTORS: readonly ModelExecutor[] = [
  { owner: 'ex-a', pools: ['apply', 'run'] },
  { owner: 'ex-b', pools: ['run'] },
  { owner: 'ex-c', pools: ['apply'] },
];

/** Clients a call may come from: the three Executors and one that never claims anything. */
export const CALLERS: readonly string[] = [...EXECUTORS.map((one) => one.owner), 'intruder'];

/** One lease as a caller names it: the task, the client and the epoch. */
export type Hold = { readonly taskId: string; readonly owner: string; readonly epoch: number };

/** How the queue must refuse a call. */
export type Refusal = 'task_not_found' | 'lease_lost' | 'lease_not_held';

/** The three ways an Executor reports on a task. */
export type Outcome = 'succeeded' | 'retryable' | 'final';

/** A task to queue; upstream tasks are named by how far back they were queued (0: the last). */
export type TaskSpec = {
  readonly pool: TaskPool;
  readonly priority: number;
  readonly maxAttempts: number;
  readonly upstreamBack: readonly number[];
};

/** What the model expects of one task. */
export type ModelTask = {
  readonly id: string;
  readonly pool: TaskPool;
  readonly priority: number;
  readonly maxAttempts: number;
  readonly dependsOn: readonly string[];
  status: QueuedTaskStatus;
  attempt: number;
  epoch: number;
  owner: string | null;
  leaseExpiresAtMs: number | null;
  readyAtMs: number;
  lastReport: unknown;
  readonly everHeldBy: Set<string>;
};

/** A completion the queue accepted, with the answer a replay must get again. */
export type AcceptedCompletion = Hold & { readonly key: string; readonly answer: CompletionAnswer };

const CANNOT_SUCCEED: readonly QueuedTaskStatus[] = ['failed', 'skipped', 'cancelled'];

/** The expected state of the queue, moved by the same calls the store gets. */
export class QueueModel {
  nowMs = START_MS;
  readonly tasks = new Map<string, ModelTask>();
  /** What the Executors believe they hold. */
  beliefs: Hold[] = [];
  /** Every claim ever made, current or long lost. */
  readonly claims: Hold[] = [];
  readonly completions: AcceptedCompletion[] = [];
  private keyCount = 0;

  /** A fresh idempotency key. */
  newKey(): string {
    this.keyCount += 1;
    return `key-${this.keyCount}`;
  }

  /** Adds the tasks in order and returns them; upstream references before the first are dropped. */
  enqueue(specs: readonly TaskSpec[]): ModelTask[] {
    return specs.map((spec) => {
      const number = this.tasks.size;
      const dependsOn = [...new Set(spec.upstreamBack.map((back) => number - 1 - back))]
        .filter((upstream) => upstream >= 0)
        .map(taskIdOf);
      const task = this.newTask(taskIdOf(number), spec, dependsOn);
      this.tasks.set(task.id, task);
      return task;
    });
  }

  private newTask(id: string, spec: TaskSpec, dependsOn: readonly string[]): ModelTask {
    const upstream = dependsOn.map((upstreamId) => this.task(upstreamId).status);
    const status: QueuedTaskStatus = upstream.some((one) => CANNOT_SUCCEED.includes(one))
      ? 'skipped'
      : upstream.every((one) => one === 'succeeded')
        ? 'ready'
        : 'blocked';
    const { pool, priority, maxAttempts } = spec;
    return {
      id,
      pool,
      priority,
      maxAttempts,
      dependsOn,
      status,
      attempt: 0,
      epoch: 0,
      owner: null,
      leaseExpiresAtMs: null,
      readyAtMs: this.nowMs,
      lastReport: undefined,
      everHeldBy: new Set(),
    };
  }

  task(taskId: string): ModelTask {
    const task = this.tasks.get(taskId);
    if (task === undefined) throw new Error(`the model has no task '${taskId}'`);
    return task;
  }

  /** How the queue must refuse the call, or undefined when the caller holds the lease. */
  refusalOf(call: Hold): Refusal | undefined {
    const task = this.tasks.get(call.taskId);
    if (task === undefined) return 'task_not_found';
    const isHolder =
      task.status === 'leased' && task.owner === call.owner && task.epoch === call.epoch;
    if (isHolder) return undefined;
    return task.everHeldBy.has(call.owner) ? 'lease_lost' : 'lease_not_held';
  }

  /** Leases what the claim must get: ready tasks by priority, then readiness time, then id. */
  claim(executor: ModelExecutor, maxTasks: number): ModelTask[] {
    const chosen = [...this.tasks.values()]
      .filter((task) => task.status === 'ready' && task.readyAtMs <= this.nowMs)
      .filter((task) => executor.pools.includes(task.pool))
      .sort(claimOrder)
      .slice(0, maxTasks);
    for (const task of chosen) {
      task.status = 'leased';
      task.owner = executor.owner;
      task.leaseExpiresAtMs = this.nowMs + LEASE_MS;
      task.attempt += 1;
      task.epoch += 1;
      task.everHeldBy.add(executor.owner);
      const hold = { taskId: task.id, owner: executor.owner, epoch: task.epoch };
      this.claims.push(hold);
      this.beliefs.push(hold);
    }
    return chosen;
  }

  /** The caller stops believing it holds this lease. */
  forget(call: Hold): void {
    this.beliefs = this.beliefs.filter((belief) => !isSameHold(belief, call));
  }

  heartbeat(call: Hold): number {
    const task = this.task(call.taskId);
    task.leaseExpiresAtMs = this.nowMs + LEASE_MS;
    return task.leaseExpiresAtMs;
  }

  release(call: Hold): void {
    this.requeue(this.task(call.taskId), this.nowMs);
    this.task(call.taskId).attempt -= 1;
    this.forget(call);
  }

  /** Applies an accepted completion and returns the answer the queue must give. */
  complete(call: Hold, outcome: Outcome, random: number, report: unknown): CompletionAnswer {
    const task = this.task(call.taskId);
    task.lastReport = report;
    this.forget(call);
    if (outcome === 'succeeded') {
      this.finish(task, 'succeeded');
      this.releaseDownstreamOf(task.id);
      return { taskStatus: 'succeeded', retryAtMs: null, skippedTasks: 0 };
    }
    if (outcome === 'retryable' && task.attempt < task.maxAttempts) {
      const retryAtMs = this.nowMs + backoffDelayMs(task.attempt, RETRY, () => random);
      this.requeue(task, retryAtMs);
      return { taskStatus: 'retrying', retryAtMs, skippedTasks: 0 };
    }
    this.finish(task, 'failed');
    return { taskStatus: 'failed', retryAtMs: null, skippedTasks: this.skipDownstream([task.id]) };
  }

  /** Returns expired leases to the queue, or fails the tasks whose attempts are spent. */
  reap(random: number): ReapResult {
    const expired = [...this.tasks.values()].filter(
      (task) => task.status === 'leased' && (task.leaseExpiresAtMs ?? 0) < this.nowMs,
    );
    const ended: string[] = [];
    for (const task of expired) {
      if (task.attempt < task.maxAttempts) {
        this.requeue(task, this.nowMs + backoffDelayMs(task.attempt, RETRY, () => random));
      } else {
        this.finish(task, 'failed');
        ended.push(task.id);
      }
    }
    this.skipDownstream(ended);
    return { requeued: expired.length - ended.length, failed: ended.length };
  }

  /** Extends every live lease to at least a full lease length from now; returns how many. */
  restart(): number {
    const short = [...this.tasks.values()].filter(
      (task) => task.status === 'leased' && (task.leaseExpiresAtMs ?? 0) < this.nowMs + LEASE_MS,
    );
    for (const task of short) task.leaseExpiresAtMs = this.nowMs + LEASE_MS;
    return short.length;
  }

  private requeue(task: ModelTask, readyAtMs: number): void {
    Object.assign(task, { status: 'ready', owner: null, leaseExpiresAtMs: null, readyAtMs });
  }

  private finish(task: ModelTask, status: 'succeeded' | 'failed'): void {
    Object.assign(task, { status, leaseExpiresAtMs: null });
  }

  private releaseDownstreamOf(taskId: string): void {
    for (const task of this.tasks.values()) {
      if (task.status !== 'blocked' || !task.dependsOn.includes(taskId)) continue;
      if (task.dependsOn.every((upstream) => this.task(upstream).status === 'succeeded')) {
        Object.assign(task, { status: 'ready', readyAtMs: this.nowMs });
      }
    }
  }

  /** Skips every unfinished task downstream of `taskIds`, transitively; returns how many. */
  private skipDownstream(taskIds: readonly string[]): number {
    const reached = new Set<string>();
    let frontier = [...taskIds];
    while (frontier.length > 0) {
      const next = [...this.tasks.values()].filter(
        (task) => !reached.has(task.id) && task.dependsOn.some((id) => frontier.includes(id)),
      );
      for (const task of next) reached.add(task.id);
      frontier = next.map((task) => task.id);
    }
    const skipped = [...reached].map((id) => this.task(id));
    const unfinished = skipped.filter((task) => ['blocked', 'ready'].includes(task.status));
    for (const task of unfinished) task.status = 'skipped';
    return unfinished.length;
  }
}

/** Task ids sort the same under every collation: a letter and two digits. */
export function taskIdOf(number: number): string {
  return `t${String(number).padStart(2, '0')}`;
}

export function isSameHold(a: Hold, b: Hold): boolean {
  return a.taskId === b.taskId && a.owner === b.owner && a.epoch === b.epoch;
}

function claimOrder(a: ModelTask, b: ModelTask): number {
  if (a.priority !== b.priority) return a.priority - b.priority;
  if (a.readyAtMs !== b.readyAtMs) return a.readyAtMs - b.readyAtMs;
  return a.id < b.id ? -1 : 1;
}
