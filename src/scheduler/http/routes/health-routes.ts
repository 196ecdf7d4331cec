import { z } from 'zod';
import type { SchedulerApp } from '../scheduler-app.js';
import type { ServiceContext } from '../service-context.js';

/**
 * `/healthz` says the process answers (for a liveness probe: restart it if not); `/readyz` says it
 * can do its work: the state store answers and the revocation list is fresh, since a verifier
 * that cannot see revocations refuses every token (for a readiness probe: send no traffic here).
 */

const healthSchema = z.strictObject({ status: z.literal('ok') });
const readySchema = z.strictObject({ status: z.literal('ready') });
const unreadySchema = z.strictObject({ status: z.literal('unready'), reason: z.string() });

/** How long the state store may take to answer the readiness check. */
const STORE_CHECK_TIMEOUT_MS = 2000;

/** Registers the two probes; both are public. */
export function registerHealthRoutes(app: SchedulerApp, context: ServiceContext): void {
  app.get('/healthz', {
    schema: { response: { 200: healthSchema } },
    config: { access: 'public', summary: 'Whether the process answers' },
    handler: async () => ({ status: 'ok' as const }),
  });

  app.get('/readyz', {
    schema: { response: { 200: readySchema, 503: unreadySchema } },
    config: {
      access: 'public',
      summary: 'Whether the state store answers and revocations are fresh',
    },
    handler: async (_request, reply) => {
      const reason = await unreadiness(context);
      if (reason === undefined) return reply.code(200).send({ status: 'ready' });

      context.logger.warn({ reason }, 'not ready');
      return reply.code(503).header('retry-after', '5').send({ status: 'unready', reason });
    },
  });
}

/** Why the service is not ready, or undefined when it is. */
async function unreadiness(context: ServiceContext): Promise<string | undefined> {
  try {
    await withTimeout(context.store.schemaVersion(), STORE_CHECK_TIMEOUT_MS);
  } catch {
    // Driver errors may quote connection settings, so the reason names the part, not the error.
    return 'The state store does not answer';
  }

  if (!context.revocations.isFresh()) return 'The list of revoked clients is out of date';
  return undefined;
}

function withTimeout<T>(work: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error('timed out')), timeoutMs);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
