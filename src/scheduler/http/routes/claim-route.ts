import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { SluiceError } from '../../../core/errors.js';
import type { TaskPool } from '../../../core/task-pool.js';
import {
  type ClaimRequest,
  claimRequestSchema,
  claimResponseSchema,
  type TaskDefinitionInfo,
} from '../../../protocol/tasks-api.js';
import type { ClaimedTask } from '../../../state/tasks/claim-tasks.js';
import { type ExecutorRecord, touchExecutor } from '../../../state/tasks/executor-store.js';
import type { Principal } from '../../auth/principal.js';
import { ExecutorHellos } from '../../queue/executor-hellos.js';
import type { TaskDispatcher } from '../../queue/task-dispatcher.js';
import { HttpProblem } from '../api-errors.js';
import type { SchedulerApp } from '../scheduler-app.js';
import type { ServiceContext } from '../service-context.js';
import {
  disconnectSignal,
  principalOf,
  requireHello,
  requirePoolAccess,
} from './executor-access.js';

/**
 * The long-poll claim of the pull protocol. The Executor's hello decides the pools it claims
 * from and how many tasks it may ask for; the dispatcher leases ready tasks, waiting for one when
 * none is ready. The hello is read once and remembered (ExecutorHellos): each claim's statement
 * checks that it is still the current one, and when it is not, the hello is read again and the
 * claim checked and made again with it.
 */

const PULL = { permission: 'tasks:pull' } as const;

/** No task became ready within the wait: no body. */
const NO_TASK_SCHEMA = z.null().describe('No task became ready within the wait');

/** What one claim needs besides the hello. */
type ClaimCall = {
  readonly context: ServiceContext;
  readonly dispatcher: TaskDispatcher;
  readonly principal: Principal;
  readonly claim: ClaimRequest;
  readonly reply: FastifyReply;
};

/** Registers `POST /v1/tasks/claim`. */
export function registerClaimRoute(
  app: SchedulerApp,
  context: ServiceContext,
  dispatcher: TaskDispatcher,
): void {
  const hellos = new ExecutorHellos();
  app.post('/v1/tasks/claim', {
    schema: {
      body: claimRequestSchema,
      response: { 200: claimResponseSchema, 204: NO_TASK_SCHEMA },
    },
    config: {
      access: PULL,
      summary: "Wait for ready tasks of the Executor's pools and lease them (204: none came)",
    },
    handler: async (request, reply) => {
      const principal = principalOf(request);
      const claim = request.body;
      if (claim.pools !== undefined) requirePoolAccess(principal, claim.pools);
      const call = { context, dispatcher, principal, claim, reply };

      const tasks = await claimWithHello(call, hellos);
      if (tasks.length === 0) return reply.code(204).send(null);
      return { tasks: tasks.map(claimedTaskInfo) };
    },
  });
}

/**
 * Claims with the hello remembered for the Executor; when that hello is no longer the current
 * one, or the claim does not fit it, reads the hello again and claims with what it says.
 */
async function claimWithHello(call: ClaimCall, hellos: ExecutorHellos): Promise<ClaimedTask[]> {
  const { principal, claim } = call;
  const remembered = hellos.recall(claim.executor_id, principal.clientId);
  if (remembered !== undefined) {
    try {
      return await claimAs(call, remembered, hellos);
    } catch (error) {
      if (!isLiftedByNewerHello(error)) throw error;
      hellos.forget(claim.executor_id);
    }
  }

  const executor = await requireHello(call.context.store, principal, claim.executor_id);
  hellos.remember(executor);
  return claimAs(call, executor, hellos);
}

/** A refusal that a newer hello may lift: the hello changed, or the claim does not fit it. */
function isLiftedByNewerHello(error: unknown): boolean {
  if (error instanceof HttpProblem) return true;
  return error instanceof SluiceError && error.code === 'executor_unknown';
}

/** Checks the claim against the hello and claims, leasing only while the hello is current. */
async function claimAs(
  call: ClaimCall,
  executor: ExecutorRecord,
  hellos: ExecutorHellos,
): Promise<ClaimedTask[]> {
  const { context, principal, claim } = call;
  const pools = claimablePools(executor, claim);
  // A hello's pools may need roles that this token, issued for a narrower scope, lacks.
  requirePoolAccess(principal, pools, claim.pools === undefined ? undefined : 'body.pools');
  await noteSeen(context, executor, hellos);

  const disconnect = disconnectSignal(call.reply);
  return call.dispatcher
    .claim({
      owner: principal.clientId,
      executorId: executor.id,
      pools,
      maxTasks: claim.max_tasks,
      waitMs: (claim.wait_sec ?? context.settings.pollWaitSec) * 1000,
      signal: disconnect.signal,
      hello: { pools: executor.pools, slots: executor.slots },
    })
    .finally(disconnect.dispose);
}

/** The pools a claim takes from: those it names, which must be among the hello's, or those. */
function claimablePools(executor: ExecutorRecord, claim: ClaimRequest): readonly TaskPool[] {
  if (claim.max_tasks > executor.slots) {
    throw new HttpProblem(
      400,
      'request_invalid',
      `Executor '${executor.id}' said hello with ${executor.slots} slots; claim at most that ` +
        'many tasks, or say hello again with more slots',
      'body.max_tasks',
    );
  }
  const pools = claim.pools ?? executor.pools;
  const extra = pools.find((pool) => !executor.pools.includes(pool));
  if (extra !== undefined) {
    throw new HttpProblem(
      400,
      'request_invalid',
      `Executor '${executor.id}' said hello for the pools '${executor.pools.join("', '")}', not ` +
        `'${extra}'; claim from those, or say hello again with '${extra}'`,
      'body.pools',
    );
  }
  return pools;
}

/** Notes the Executor as seen, at most once a heartbeat interval, so claims stay cheap. */
async function noteSeen(
  context: ServiceContext,
  executor: ExecutorRecord,
  hellos: ExecutorHellos,
): Promise<void> {
  const nowMs = context.settings.now();
  if (nowMs - executor.lastSeenAtMs < context.settings.heartbeatIntervalSec * 1000) return;
  await touchExecutor(context.store, executor.id, nowMs);
  hellos.remember({ ...executor, lastSeenAtMs: nowMs });
}

function claimedTaskInfo(task: ClaimedTask) {
  return {
    id: task.id,
    attempt: task.attempt,
    epoch: task.epoch,
    lease_expires_at_ms: task.leaseExpiresAtMs,
    // The queue stores the protocol task as the Scheduler queued it and never reads it.
    task: task.definition as TaskDefinitionInfo,
  };
}
