import { randomUUID } from 'node:crypto';
import type { EngineAdapter } from '../../src/engines/engine-adapter.js';
import { runTask } from '../../src/executor/tasks/task-runner.js';
import type { Task } from '../../src/protocol/task.js';
import { outcomeToWire } from '../../src/protocol/task-outcome-wire.js';
import { createSqlParser } from '../../src/sql/sql-parser.js';
import { helloBody, protocolClient } from './protocol-client.js';
import { createTestClient, type TestScheduler } from './scheduler-service.js';

/**
 * An Executor for tests that pulls tasks over HTTP and runs them on a real engine with the task
 * runner: hello for both pools, long-poll claims while a slot is free, each task run and its
 * outcome completed with an Idempotency-Key. It sends no heartbeats, so tests keep their tasks
 * shorter than the lease. The Executor command (with heartbeats, logs, retries and token renewal)
 * is built on the real protocol client in src/executor.
 */

/** A running test Executor. */
export type EngineExecutor = {
  /** How many tasks it completed. */
  readonly completed: () => number;
  /** Stops claiming, waits for the tasks it holds, and closes the parser (not the engine). */
  stop(): Promise<void>;
};

const SLOTS = 4;
const CLAIM_WAIT_SEC = 1;

/** Starts an Executor named `clientId` (a new client with both executor roles) on `adapter`. */
export async function startEngineExecutor(
  scheduler: Pick<TestScheduler, 'url' | 'store' | 'tokenFor'>,
  adapter: EngineAdapter,
  clientId = `executor-${randomUUID().slice(0, 8)}`,
): Promise<EngineExecutor> {
  const client = await createTestClient(scheduler, clientId, ['executor:run', 'executor:apply']);
  const protocol = protocolClient(scheduler.url, client.token);
  const executorId = `${clientId}-1`;
  const hello = await protocol.hello(helloBody(executorId, ['run', 'apply'], { slots: SLOTS }));
  if (hello.status !== 200) throw new Error(`hello refused: ${hello.status}`);

  const parser = await createSqlParser();
  const running = new Set<Promise<void>>();
  let completed = 0;
  let isStopped = false;

  const runOne = async (claimed: { id: string; epoch: number; task: Task }) => {
    const outcome = await runTask(claimed.task, { adapter, parser });
    const answer = await protocol.complete(
      claimed.id,
      { epoch: claimed.epoch, outcome: outcomeToWire(outcome) },
      randomUUID(),
    );
    if (answer.status !== 200) throw new Error(`completion refused: ${answer.status}`);
    completed += 1;
  };

  const loop = (async () => {
    while (!isStopped) {
      if (running.size >= SLOTS) {
        await Promise.race(running);
        continue;
      }
      const body = { executor_id: executorId, max_tasks: SLOTS - running.size };
      const answer = await protocol.claim({ ...body, wait_sec: CLAIM_WAIT_SEC });
      if (answer.status === 204) continue;
      if (answer.status !== 200) throw new Error(`claim refused: ${answer.status}`);
      for (const claimed of answer.body.tasks) {
        const work = runOne(claimed).finally(() => running.delete(work));
        running.add(work);
      }
    }
    await Promise.all(running);
  })();

  return {
    completed: () => completed,
    stop: async () => {
      isStopped = true;
      await loop;
      await parser.close();
    },
  };
}
