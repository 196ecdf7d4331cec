import type { FastifyReply, FastifyRequest } from 'fastify';
import { SluiceError } from '../../../core/errors.js';
import type { TaskPool } from '../../../core/task-pool.js';
import type { StateStore } from '../../../state/state-store.js';
import { type ExecutorRecord, readExecutor } from '../../../state/tasks/executor-store.js';
import { permits, poolPermission, rolesGranting } from '../../auth/access-policy.js';
import type { Principal } from '../../auth/principal.js';
import { HttpProblem } from '../api-errors.js';

/**
 * The checks the pull protocol's routes share: the calling token, the pools its roles let it
 * work, the Executor's hello, and the caller's disconnect during a long poll.
 */

/** The verified caller of a route that needs a token. */
export function principalOf(request: Pick<FastifyRequest, 'principal'>): Principal {
  if (request.principal === undefined) {
    throw new SluiceError('internal', 'A task route was reached without a token');
  }
  return request.principal;
}

/** Refuses with 403, naming the pool and the role needed, a pool the token's roles do not grant. */
export function requirePoolAccess(
  principal: Principal,
  pools: readonly TaskPool[],
  field: string | undefined = 'body.pools',
): void {
  for (const pool of pools) {
    const permission = poolPermission(pool);
    if (permits(principal.roles, permission)) continue;
    const roles = rolesGranting(permission).map((role) => `'${role}'`);
    throw new HttpProblem(
      403,
      'auth_forbidden',
      `Client '${principal.clientId}' may not work the '${pool}' pool: that needs the role ` +
        `${roles.join(' or ')}, which its token does not hold. Leave the pool out, or ask an ` +
        'admin for a client with that role',
      field,
    );
  }
}

/** The Executor's hello, which must have come from the calling client; 409 otherwise. */
export async function requireHello(
  store: StateStore,
  principal: Principal,
  executorId: string,
): Promise<ExecutorRecord> {
  const executor = await readExecutor(store, executorId);
  if (executor !== undefined && executor.clientId === principal.clientId) return executor;
  throw new HttpProblem(
    409,
    'executor_unknown',
    `Executor '${executorId}' has not said hello as client '${principal.clientId}'; call ` +
      'POST /v1/executors/hello first, then claim',
    'body.executor_id',
  );
}

/** An abort signal that fires if the caller disconnects before the answer is sent. */
export function disconnectSignal(reply: FastifyReply): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onClose = () => {
    if (!reply.raw.writableFinished) controller.abort();
  };
  reply.raw.once('close', onClose);
  return {
    signal: controller.signal,
    dispose: () => reply.raw.off('close', onClose),
  };
}
