import type { SchedulerApp } from './scheduler-app.js';
import type { ServiceContext } from './service-context.js';

/**
 * One log line and one metrics sample per answered request. Both name the route template
 * (`/v1/clients/:client_id/revoke`), never the raw URL, so a query string or a path segment is
 * never written down; headers and bodies are never logged.
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
    context.logger.info(
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
