import {
  logSearchResponseSchema,
  runLogsQuerySchema,
  runPathSchema,
  taskLogsQuerySchema,
} from '../../../protocol/logs-api.js';
import { taskPathSchema } from '../../../protocol/tasks-api.js';
import { searchLogsInfo } from '../../logs/log-search-info.js';
import type { SchedulerApp } from '../scheduler-app.js';
import type { ServiceContext } from '../service-context.js';

/**
 * Reading task logs, for readers of state: one task's lines (all attempts or one) and one run's,
 * filtered by level and text, paged. The lines are the Executors' text: they are answered to the
 * caller and never written into the service's own log (request logging names the route only).
 */

const READ = { permission: 'state:read' } as const;

/** Registers the two log routes. */
export function registerLogRoutes(app: SchedulerApp, context: ServiceContext): void {
  app.get('/v1/tasks/:id/logs', {
    schema: {
      params: taskPathSchema,
      querystring: taskLogsQuerySchema,
      response: { 200: logSearchResponseSchema },
    },
    config: { access: READ, summary: "A task's log lines, by level and text, a page at a time" },
    handler: (request) =>
      searchLogsInfo(context.store, { taskId: request.params.id }, request.query),
  });

  app.get('/v1/runs/:id/logs', {
    schema: {
      params: runPathSchema,
      querystring: runLogsQuerySchema,
      response: { 200: logSearchResponseSchema },
    },
    config: {
      access: READ,
      summary: 'The log lines of every task of a run, by level and text, a page at a time',
    },
    handler: (request) =>
      searchLogsInfo(context.store, { runId: request.params.id }, request.query),
  });
}
