import { SluiceError } from '../../../core/errors.js';
import {
  listExecutorsResponseSchema,
  queueDepthResponseSchema,
} from '../../../protocol/queue-api.js';
import {
  helloRequestSchema,
  helloResponseSchema,
  newestCommonVersion,
  PROTOCOL_VERSIONS,
} from '../../../protocol/tasks-api.js';
import {
  listExecutors,
  readExecutor,
  recordExecutorHello,
} from '../../../state/tasks/executor-store.js';
import { queueDepths } from '../../../state/tasks/task-queries.js';
import { HttpProblem } from '../api-errors.js';
import type { SchedulerApp } from '../scheduler-app.js';
import type { ServiceContext } from '../service-context.js';
import { principalOf, requirePoolAccess } from './executor-access.js';

/**
 * `POST /v1/executors/hello`, the first call of the pull protocol: the Scheduler picks the newest
 * protocol version both sides speak, records the Executor, and tells it how long to poll, how
 * often to heartbeat and how long a lease lasts.
 */

const PULL = { permission: 'tasks:pull' } as const;
const READ = { permission: 'state:read' } as const;

/** Registers the hello route, and the listing of Executors and queue depths for people. */
export function registerExecutorRoutes(app: SchedulerApp, context: ServiceContext): void {
  const { store, settings } = context;

  app.get('/v1/executors', {
    schema: { response: { 200: listExecutorsResponseSchema } },
    config: { access: READ, summary: 'The Executors that said hello: pools, slots, last seen' },
    handler: async () => ({
      executors: (await listExecutors(store)).map((executor) => ({
        executor_id: executor.id,
        client_id: executor.clientId,
        pools: [...executor.pools],
        slots: executor.slots,
        agent: executor.agent,
        protocol_version: executor.protocolVersion,
        started_at_ms: executor.startedAtMs,
        last_seen_at_ms: executor.lastSeenAtMs,
      })),
    }),
  });

  app.get('/v1/queue', {
    schema: { response: { 200: queueDepthResponseSchema } },
    config: { access: READ, summary: 'How many tasks are ready, blocked and held, per pool' },
    handler: async () => ({ pools: await queueDepths(store) }),
  });

  app.post('/v1/executors/hello', {
    schema: { body: helloRequestSchema, response: { 200: helloResponseSchema } },
    config: {
      access: PULL,
      summary: 'Register an Executor; choose the protocol version and the poll and lease timings',
    },
    handler: async (request) => {
      const principal = principalOf(request);
      const hello = request.body;
      requirePoolAccess(principal, hello.pools);
      const version = chooseVersion(hello.protocol_versions);

      const known = await readExecutor(store, hello.executor_id);
      if (known !== undefined && known.clientId !== principal.clientId) {
        throw new HttpProblem(
          403,
          'auth_forbidden',
          `Executor id '${hello.executor_id}' belongs to another client; give this Executor an ` +
            'id of its own',
          'body.executor_id',
        );
      }

      const nowMs = settings.now();
      await recordExecutorHello(store, {
        id: hello.executor_id,
        clientId: principal.clientId,
        pools: hello.pools,
        slots: hello.slots,
        protocolVersion: version,
        agent: hello.agent,
        startedAtMs: nowMs,
        lastSeenAtMs: nowMs,
      });
      context.logger.info(
        {
          executorId: hello.executor_id,
          clientId: principal.clientId,
          pools: hello.pools,
          slots: hello.slots,
          protocolVersion: version,
        },
        'executor registered',
      );
      return {
        protocol_version: version,
        executor_id: hello.executor_id,
        poll_wait_sec: settings.pollWaitSec,
        heartbeat_interval_sec: settings.heartbeatIntervalSec,
        lease_sec: settings.leaseSec,
      };
    },
  });
}

function chooseVersion(offered: readonly number[]): number {
  const version = newestCommonVersion(offered);
  if (version !== undefined) return version;
  throw new SluiceError(
    'protocol_unsupported',
    `This Scheduler speaks protocol ${versions(PROTOCOL_VERSIONS)} and the Executor offered ` +
      `${versions(offered)}; run an Executor of a release that speaks one the Scheduler speaks`,
  );
}

function versions(list: readonly number[]): string {
  return `${list.length === 1 ? 'version' : 'versions'} ${list.join(', ')}`;
}
