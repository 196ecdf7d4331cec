// Executors for the task queue benchmark: each its own OAuth client with the executor:run role,
// its own token and keep-alive connections, one hello, then a loop of long-poll claims of one
// task that completes every task it gets at once (with an Idempotency-Key).
import { isClosedRequest, ProtocolClient } from './task-queue-client.mjs';

const CLAIM_WAIT_SEC = 20;

/**
 * Starts one Executor per client on the service at `url`. `onStarted()` is called once every
 * Executor has its token and said hello, just before the first claims; `onClaimed(tasks, receivedMs)` is
 * called as soon as a claim's answer is read, `onCompleted(task)` once its completion is
 * answered; `failure` rejects with the first error of any loop (a broken route fails the run);
 * `stop` ends the loops, abandoning the claims still waiting.
 */
export async function startExecutors(url, clients, handlers) {
  const executors = clients.map((credentials, index) => ({
    id: `bench-executor-${index}`,
    client: new ProtocolClient(url, credentials),
  }));
  await Promise.all(executors.map(({ client }) => client.authenticate()));
  await Promise.all(
    executors.map(({ id, client }) => client.hello({ executorId: id, pools: ['run'], slots: 1 })),
  );

  await handlers.onStarted?.();
  const counts = { claims: 0, emptyClaims: 0 };
  let isStopped = false;
  const loops = executors.map((executor) => claimLoop(executor, handlers, counts, () => isStopped));
  const settled = Promise.allSettled(loops);
  const failure = Promise.race(loops.map((loop) => loop.then(() => new Promise(() => undefined))));
  failure.catch(() => undefined);
  return {
    counts,
    failure,
    stop: async () => {
      isStopped = true;
      for (const { client } of executors) client.close();
      const results = await settled;
      const failed = results.find((result) => result.status === 'rejected');
      if (failed !== undefined) throw failed.reason;
    },
  };
}

async function claimLoop({ id, client }, handlers, counts, isStopped) {
  while (!isStopped()) {
    let tasks;
    try {
      tasks = await client.claim({ executorId: id, maxTasks: 1, waitSec: CLAIM_WAIT_SEC });
    } catch (error) {
      if (isStopped() && isClosedRequest(error)) return;
      throw error;
    }
    const receivedMs = performance.now();
    counts.claims += 1;
    if (tasks.length === 0) counts.emptyClaims += 1;
    handlers.onClaimed?.(tasks, receivedMs);
    for (const task of tasks) {
      try {
        await client.complete(task);
      } catch (error) {
        if (isStopped() && isClosedRequest(error)) return;
        throw error;
      }
      handlers.onCompleted?.(task);
    }
  }
}
