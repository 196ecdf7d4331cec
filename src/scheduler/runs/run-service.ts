import { EventEmitter } from 'node:events';
import type { Logger } from '../../core/logger.js';
import type { Task, TaskOutcome, TaskPool } from '../../protocol/task.js';
import { newRowId } from '../../state/row-id.js';
import {
  abandonStaleRuns,
  createRun,
  finishRun,
  type RunKind,
  type RunStatus,
  touchOwnedRuns,
} from '../../state/runs/run-store.js';
import type { StateStore } from '../../state/state-store.js';
import { cancelRunTasks } from '../../state/tasks/reap-tasks.js';
import { QueuedTaskQueue, type QueueSettings, runQueuedTask } from './queued-tasks.js';
import { type ModelResult, RunCoordinator, type RunOptions } from './run-coordinator.js';
import type { RunNode } from './run-graph.js';
import { RunRecorder } from './run-recorder.js';
import type { TaskCompletions } from './task-completions.js';
import { leaseOwnerOf } from './version-lease.js';

/**
 * The runs a Scheduler coordinates: each is recorded in the store, driven by a run coordinator
 * in this process whose tasks go through the state store's queue to Executors, and followed
 * through its recorded events. A Scheduler says every few seconds that its runs are alive; a run
 * whose Scheduler went silent is marked abandoned (and its queued tasks cancelled) by whichever
 * Scheduler notices, since its coordinator is gone. Intervals are recorded as each task
 * succeeds, so the next run or plan takes over what an abandoned run left.
 */

/** How the service runs. */
export type RunServiceSettings = {
  readonly store: StateStore;
  readonly completions: TaskCompletions;
  readonly logger: Logger;
  /** This Scheduler's instance id: the owner of its runs. */
  readonly instanceId: string;
  readonly maxAttempts: number;
  /** How often the service says its runs are alive and reads cancellations. */
  readonly heartbeatMs: number;
  /** How long a run's owner may stay silent before the run counts as abandoned. */
  readonly abandonAfterMs: number;
  readonly now: () => number;
};

/** A run to start. */
export type RunRequest = {
  readonly kind: RunKind;
  readonly environment: string;
  readonly pool: TaskPool;
  readonly requestedBy: string;
  readonly gateway: string;
  readonly planId?: string;
  readonly id?: string;
};

/** A run's graph and the options of its coordinator. */
export type GraphWork = {
  readonly graph: ReadonlyMap<string, RunNode>;
  readonly nowMs: number;
} & Pick<RunOptions, 'limitRange' | 'shouldSkipBackfill' | 'forwardOnlyIds'>;

/** The work of a started run, given its id and how to run graphs and single tasks in it. */
export type RunBody = (run: RunContext) => Promise<RunEnding>;

/** How a run ended, and what its summary records. */
export type RunEnding = {
  readonly status: Exclude<RunStatus, 'running'>;
  readonly summary: unknown;
};

/** What a run's body works with. */
export type RunContext = {
  readonly runId: string;
  readonly signal: AbortSignal;
  runGraph(work: GraphWork): Promise<readonly ModelResult[]>;
  runTask(task: Task): Promise<TaskOutcome>;
};

type ActiveRun = { readonly abort: AbortController; readonly recorder: RunRecorder };

/** Lease settings of the version leases a run's models take. */
const LEASE_TTL_MS = 30_000;
const LEASE_POLL_MS = 500;

/** Starts, tracks and cancels the runs this Scheduler coordinates. */
export class RunService {
  readonly #settings: RunServiceSettings;
  readonly #active = new Map<string, ActiveRun>();
  readonly #events = new EventEmitter();
  readonly #timer: NodeJS.Timeout;

  constructor(settings: RunServiceSettings) {
    this.#settings = settings;
    this.#events.setMaxListeners(0);
    this.#timer = setInterval(() => void this.#heartbeat(), settings.heartbeatMs);
    this.#timer.unref();
  }

  /** The watcher of task endings its runs wait on. */
  get completions(): TaskCompletions {
    return this.#settings.completions;
  }

  /** Records the run and starts `body` in the background; resolves with the run's id. */
  async start(
    request: RunRequest,
    body: RunBody,
  ): Promise<{ runId: string; ended: Promise<void> }> {
    const { store, logger, instanceId, now } = this.#settings;
    const runId = request.id ?? newRowId(now());
    await createRun(store, { ...request, id: runId, owner: instanceId, nowMs: now() });

    const active: ActiveRun = {
      abort: new AbortController(),
      recorder: new RunRecorder(store, runId, logger, () => this.#events.emit(runId)),
    };
    this.#active.set(runId, active);
    logger.info({ runId, kind: request.kind, environment: request.environment }, 'run started');
    const ended = this.#drive(runId, request, active, body);
    return { runId, ended };
  }

  /** Calls `listener` whenever events of `runId` were recorded or the run ended here. */
  onProgress(runId: string, listener: () => void): () => void {
    this.#events.on(runId, listener);
    return () => this.#events.off(runId, listener);
  }

  /** Cancels a run this Scheduler coordinates; false when it coordinates no such run. */
  async cancelLocal(runId: string): Promise<boolean> {
    const active = this.#active.get(runId);
    if (active === undefined) return false;
    active.abort.abort();
    await cancelRunTasks(this.#settings.store, runId, this.#settings.now());
    return true;
  }

  /**
   * Cancels every run it coordinates, waits for them to be recorded as ended, and stops
   * watching for task endings (on PostgreSQL that closes the LISTEN connection).
   */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    const ids = [...this.#active.keys()];
    await Promise.all(ids.map((runId) => this.cancelLocal(runId)));
    while (this.#active.size > 0) await new Promise((resolve) => setTimeout(resolve, 10));
    await this.#settings.completions.close();
  }

  async #drive(runId: string, request: RunRequest, active: ActiveRun, body: RunBody) {
    const { store, logger, now } = this.#settings;
    let ending: RunEnding;
    try {
      ending = await body(this.#contextOf(runId, request, active));
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const code = (error as { code?: unknown }).code;
      ending = {
        status: 'failed',
        summary: { error: { code: typeof code === 'string' ? code : 'internal', message } },
      };
    }
    if (active.abort.signal.aborted && ending.status === 'failed') {
      ending = { status: 'cancelled', summary: ending.summary };
    }
    await active.recorder.flush();
    await finishRun(store, runId, ending, now()).catch((error: unknown) => {
      logger.error({ err: error, runId }, 'could not record the end of a run');
    });
    this.#active.delete(runId);
    this.#events.emit(runId);
    logger.info({ runId, status: ending.status }, 'run finished');
  }

  #contextOf(runId: string, request: RunRequest, active: ActiveRun): RunContext {
    const queue: QueueSettings = {
      store: this.#settings.store,
      completions: this.#settings.completions,
      environment: request.environment,
      gateway: request.gateway,
      maxAttempts: this.#settings.maxAttempts,
      now: this.#settings.now,
    };
    return {
      runId,
      signal: active.abort.signal,
      runGraph: (work) => this.#runGraph(runId, request.pool, work, queue, active),
      runTask: async (task) => {
        const outcome = await runQueuedTask({ ...task, runId }, queue);
        active.recorder.record({ type: 'task_finished', task, outcome });
        return outcome;
      },
    };
  }

  #runGraph(
    runId: string,
    pool: TaskPool,
    work: GraphWork,
    queueSettings: QueueSettings,
    active: ActiveRun,
  ): Promise<readonly ModelResult[]> {
    const { store, logger } = this.#settings;
    let coordinator: RunCoordinator | undefined;
    const queue = new QueuedTaskQueue(queueSettings, (taskId, outcome) => {
      void coordinator?.complete(taskId, outcome);
    });
    coordinator = new RunCoordinator(store, queue, work.graph, {
      runId,
      pool,
      nowMs: work.nowMs,
      lease: { owner: leaseOwnerOf(runId), ttlMs: LEASE_TTL_MS, pollMs: LEASE_POLL_MS },
      logger: logger.child({ runId }),
      signal: active.abort.signal,
      onEvent: (event) => active.recorder.record(event),
      ...(work.limitRange === undefined ? {} : { limitRange: work.limitRange }),
      ...(work.shouldSkipBackfill === undefined
        ? {}
        : { shouldSkipBackfill: work.shouldSkipBackfill }),
      ...(work.forwardOnlyIds === undefined ? {} : { forwardOnlyIds: work.forwardOnlyIds }),
    });
    return coordinator.run();
  }

  /** Says this Scheduler's runs are alive, picks up cancellations, and abandons silent runs. */
  async #heartbeat(): Promise<void> {
    const { store, logger, instanceId, now, abandonAfterMs } = this.#settings;
    try {
      await touchOwnedRuns(store, instanceId, now());
      await this.#pickUpCancellations();
      for (const runId of await abandonStaleRuns(store, now() - abandonAfterMs, now())) {
        logger.warn({ runId }, 'run abandoned: the Scheduler coordinating it went silent');
        await cancelRunTasks(store, runId, now());
        this.#events.emit(runId);
      }
    } catch (error) {
      logger.warn({ err: error }, 'could not update the runs this Scheduler coordinates');
    }
  }

  async #pickUpCancellations(): Promise<void> {
    if (this.#active.size === 0) return;
    const rows = await this.#settings.store.db
      .selectFrom('sluice_runs')
      .select('id')
      .where('id', 'in', [...this.#active.keys()])
      .where('is_cancel_requested', '=', 1)
      .execute();
    for (const row of rows) await this.cancelLocal(String(row.id));
  }
}
