import { z } from 'zod';
import type { SchedulerApp } from '../scheduler-app.js';
import type { ServiceContext } from '../service-context.js';

/** `/metrics` in the Prometheus text format, for any reader role (it shows no state contents). */
export function registerMetricsRoute(app: SchedulerApp, context: ServiceContext): void {
  const { registry } = context.metrics;
  app.get('/metrics', {
    // The text is sent as a string, which Fastify writes as is; the schema documents it.
    schema: { response: { 200: z.string() } },
    config: {
      access: { permission: 'metrics:read' },
      summary: 'Prometheus metrics of this process',
      produces: registry.contentType,
    },
    handler: async (_request, reply) => {
      const text = await registry.metrics();
      return reply.type(registry.contentType).send(text);
    },
  });
}
