import { runPathSchema } from '../../../protocol/runs-api.js';
import {
  runTasksQuerySchema,
  runTasksResponseSchema,
  taskResponseSchema,
} from '../../../protocol/task-listing-api.js';
import { taskPathSchema } from '../../../protocol/tasks-api.js';
import { runTasksInfo, taskDetailInfo } from '../../runs/task-listing-info.js';
import type { SchedulerApp } from '../scheduler-app.js';
import type { ServiceContext } from '../service-context.js';

/**
 * Reading tasks, for readers of state: the tasks of a run, by status, a page at a time, and one
 * task with the outcome its last completed attempt reported. Executors' calls on tasks are in
 * task-routes.ts; an Executor's token may not read these.
 */

const READ = { permission: 'state:read' } as const;

/** Registers the two task reading routes. */
export function registerTaskReadRoutes(app: SchedulerApp, context: ServiceContext): void {
  app.get('/v1/runs/:id/tasks', {
    schema: {
      params: runPathSchema,
      querystring: runTasksQuerySchema,
      response: { 200: runTasksResponseSchema },
    },
    config: {
      access: READ,
      summary: "A run's tasks in the order it queued them, a page at a time",
    },
    handler: (request) => runTasksInfo(context.store, request.params.id, request.query),
  });

  app.get('/v1/tasks/:id', {
    schema: { params: taskPathSchema, response: { 200: taskResponseSchema } },
    config: { access: READ, summary: 'One task, with the outcome its last attempt reported' },
    handler: async (request) => ({
      task: await taskDetailInfo(context.store, request.params.id),
    }),
  });
}
