import type { FastifyRequest } from 'fastify';
import {
  type CompleteRequest,
  completeHeadersSchema,
  completeRequestSchema,
  completeResponseSchema,
  IDEMPOTENCY_KEY_HEADER,
} from '../../../protocol/task-completion-api.js';
import {
  heartbeatResponseSchema,
  leaseCallRequestSchema,
  logsRequestSchema,
  logsResponseSchema,
  releaseResponseSchema,
  taskPathSchema,
} from '../../../protocol/tasks-api.js';
import type { AttemptUsage } from '../../../state/tasks/attempt-pricing.js';
import { completeTask, type TaskVerdict } from '../../../state/tasks/complete-task.js';
import type { LeaseCall } from '../../../state/tasks/task-holder.js';
import { heartbeatTask, releaseTask } from '../../../state/tasks/task-leases.js';
import { appendTaskLogs } from '../../../state/tasks/task-logs.js';
import type { TaskDispatcher } from '../../queue/task-dispatcher.js';
import type { SchedulerApp } from '../scheduler-app.js';
import type { ServiceContext } from '../service-context.js';
import { registerClaimRoute } from './claim-route.js';
import { principalOf } from './executor-access.js';

/**
 * The task calls of the pull protocol: the long-poll claim (claim-route.ts), and the calls on a
 * claimed task (heartbeat, logs, complete, release). Each call on a claimed task passes the
 * token's subject as the lease owner and the epoch the caller holds, so the store's fencing
 * decides: an earlier epoch is 409, a caller that never held the task 403.
 */

const PULL = { permission: 'tasks:pull' } as const;

/** Registers the claim and the four calls on a claimed task. */
export function registerTaskRoutes(
  app: SchedulerApp,
  context: ServiceContext,
  dispatcher: TaskDispatcher,
): void {
  registerClaimRoute(app, context, dispatcher);
  registerLeaseRoutes(app, context);
  registerCompleteRoute(app, context);
}

function registerLeaseRoutes(app: SchedulerApp, context: ServiceContext): void {
  const { store, settings } = context;
  const leaseMs = settings.leaseSec * 1000;

  app.post('/v1/tasks/:id/heartbeat', {
    schema: {
      params: taskPathSchema,
      body: leaseCallRequestSchema,
      response: { 200: heartbeatResponseSchema },
    },
    config: {
      access: PULL,
      summary: 'Renew the lease on a claimed task; says if it was cancelled',
    },
    handler: async (request) => {
      const answer = await heartbeatTask(store, leaseCallOf(request, context), leaseMs);
      return {
        lease_expires_at_ms: answer.leaseExpiresAtMs,
        cancel_requested: answer.isCancelRequested,
      };
    },
  });

  app.post('/v1/tasks/:id/logs', {
    schema: {
      params: taskPathSchema,
      body: logsRequestSchema,
      response: { 200: logsResponseSchema },
    },
    config: {
      access: PULL,
      summary: 'Store a numbered batch of log lines of a claimed task, once',
    },
    handler: async (request) => {
      const { seq, lines } = request.body;
      const answer = await appendTaskLogs(store, {
        ...leaseCallOf(request, context),
        seq,
        lines: lines.map((line) => ({
          atMs: line.at_ms,
          level: line.level,
          message: line.message,
        })),
      });
      return { duplicate: answer.isDuplicate };
    },
  });

  app.post('/v1/tasks/:id/release', {
    schema: {
      params: taskPathSchema,
      body: leaseCallRequestSchema,
      response: { 200: releaseResponseSchema },
    },
    config: { access: PULL, summary: 'Give a claimed task back without spending an attempt' },
    handler: async (request) => {
      await releaseTask(store, leaseCallOf(request, context));
      return { released: true as const };
    },
  });
}

function registerCompleteRoute(app: SchedulerApp, context: ServiceContext): void {
  const { store, settings } = context;
  app.post('/v1/tasks/:id/complete', {
    schema: {
      params: taskPathSchema,
      headers: completeHeadersSchema,
      body: completeRequestSchema,
      response: { 200: completeResponseSchema },
    },
    config: {
      access: PULL,
      summary:
        'Report the outcome of a claimed task; a replay with the same key gets the same answer',
    },
    handler: async (request) => {
      const { outcome, cost } = request.body;
      const answer = await completeTask(store, {
        ...leaseCallOf(request, context),
        idempotencyKey: request.headers[IDEMPOTENCY_KEY_HEADER],
        verdict: verdictOf(outcome),
        report: cost === undefined ? { outcome } : { outcome, cost },
        retry: settings.retryBackoff,
        pricing: { usage: usageOf(request.body), rates: settings.costRates },
      });
      return {
        task_status: answer.taskStatus,
        retry_at_ms: answer.retryAtMs,
        skipped_tasks: answer.skippedTasks,
      };
    },
  });
}

/** What the attempt used, as the Executor reports it, for pricing. */
function usageOf({ outcome, cost }: CompleteRequest): AttemptUsage {
  return {
    durationMs: outcome.duration_ms,
    ...(cost?.bytes_scanned === undefined ? {} : { bytesScanned: cost.bytes_scanned }),
    ...(outcome.status === 'succeeded' ? { rowsWritten: outcome.rows_written } : {}),
  };
}

function verdictOf(outcome: CompleteRequest['outcome']): TaskVerdict {
  return outcome.status === 'succeeded'
    ? { status: 'succeeded' }
    : { status: 'failed', isRetryable: outcome.error.retryable };
}

/** The lease call of a request on `/v1/tasks/:id/...`: the task, the token's subject, the epoch. */
function leaseCallOf(
  request: Pick<FastifyRequest, 'principal'> & {
    readonly params: { readonly id: string };
    readonly body: { readonly epoch: number };
  },
  context: ServiceContext,
): LeaseCall {
  return {
    taskId: request.params.id,
    owner: principalOf(request).clientId,
    epoch: request.body.epoch,
    nowMs: context.settings.now(),
  };
}
