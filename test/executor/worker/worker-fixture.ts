import { pino } from 'pino';
import { vi } from 'vitest';
import {
  NO_PROXY_SETTINGS,
  type ProxySettings,
} from '../../../src/executor/protocol/proxy-settings.js';
import { SchedulerConnection } from '../../../src/executor/protocol/scheduler-connection.js';
import { startWorker, type Worker } from '../../../src/executor/worker/worker.js';
import type { TaskFunction } from '../../../src/executor/worker/worker-options.js';
import type { Task } from '../../../src/protocol/task.js';
import { readTaskRecord } from '../../../src/state/tasks/task-queries.js';
import type { QueuedTaskStatus } from '../../../src/state/tasks/task-rows.js';
import { createTestClient, type TestScheduler } from '../../helpers/scheduler-service.js';

/** A worker of the run pool on a test Scheduler, its connection and every line it logged. */
export type WorkerUnderTest = {
  readonly worker: Worker;
  readonly connection: SchedulerConnection;
  readonly secret: string;
  readonly logs: string[];
};

/** Starts a worker with a new client, short waits and a fast retry policy. */
export async function startTestWorker(
  scheduler: Pick<TestScheduler, 'url' | 'store' | 'tokenFor'>,
  runTask: TaskFunction,
  options: { readonly slots?: number; readonly proxy?: ProxySettings; readonly url?: string } = {},
): Promise<WorkerUnderTest> {
  const client = await createTestClient(
    scheduler,
    `runner-${Math.random().toString(36).slice(2, 8)}`,
    ['executor:run'],
  );
  const connection = new SchedulerConnection({
    url: options.url ?? scheduler.url,
    credentials: () => ({ clientId: client.clientId, clientSecret: client.secret }),
    proxy: options.proxy ?? NO_PROXY_SETTINGS,
    retry: { baseDelayMs: 50, maxDelayMs: 400 },
  });
  const logs: string[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => logs.push(line.trim()) });
  const worker = startWorker({
    connection,
    executorId: `${client.clientId}-1`,
    agent: 'sluice-test/1',
    pools: ['run'],
    slots: options.slots ?? 2,
    runTask,
    logger,
    claimWaitSec: 1,
    logFlushMs: 50,
    abortWaitMs: 2000,
  });
  return { worker, connection, secret: client.secret, logs };
}

/** Waits until task `taskId` has `status` in the queue. */
export async function taskReaches(
  scheduler: Pick<TestScheduler, 'store'>,
  taskId: string,
  status: QueuedTaskStatus,
): Promise<void> {
  await vi.waitFor(
    async () => {
      const record = await readTaskRecord(scheduler.store, taskId);
      if (record.status !== status) throw new Error(`task ${taskId} is ${record.status}`);
    },
    { timeout: 15_000, interval: 25 },
  );
}

/** A task function that waits for its signal and reports the abort as a failure. */
export function untilAborted(seen: { reason?: unknown; tasks: string[] }): TaskFunction {
  return async (task: Task, { signal }) => {
    seen.tasks.push(task.id);
    await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve()));
    seen.reason = signal.reason;
    return {
      status: 'failed',
      durationMs: 3,
      error: { code: 'query_cancelled', message: 'aborted', isRetryable: true },
    };
  };
}
