import type { SchedulerApp } from './scheduler-app.js';
import type { ServiceContext } from './service-context.js';

/**
 * One log line and one metrics sample per answered request. Both name the route template
 * (`/v1/clients/:client_id/revoke`), never the raw URL, so a query string or a path segment is
 * never written down; headers and bodies are never logged. The line is at info, except for the
 * task calls of the pull protocol that were answered without error (claims and the calls on a
 * claimed task, several per task): that is per-task detail, at debug. Refusals stay at info.
 */
export function installRequestLogging(app: SchedulerApp, context: ServiceContext): void {
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? '(no route)';
    const status = reply.statusCode;
    const durationMs = Math.round(reply.elapsedTime * 1000) / 1000;

    context.metrics.httpRequests.inc({ method: request.method, route, status: String(status) });
    context.metrics.httpRequestDuration.observe(
      { method: request.method, route },
      durationMs / 1000,
    );
    const level = isTaskCall(request.method, route) && status < 400 ? 'debug' : 'info';
    context.logger[level](
      {
        method: request.method,
        route,
        status,
        durationMs,
        ...(request.principal === undefined ? {} : { client_id: request.principal.clientId }),
      },
      'request',
    );
  });
}

/** The task calls: POST `/v1/tasks/claim` and `/v1/tasks/:id/...`, not reading a task's logs. */
function isTaskCall(method: string, route: string): boolean {
  return method === 'POST' && route.startsWith('/v1/tasks/');
}
