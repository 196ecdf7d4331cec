import {
  costQuerySchema,
  costTotalsResponseSchema,
  environmentCostResponseSchema,
} from '../../../protocol/cost-api.js';
import { environmentPathSchema } from '../../../protocol/environments-api.js';
import { costTotalsInfo, environmentCostInfo } from '../../cost/cost-info.js';
import type { SchedulerApp } from '../scheduler-app.js';
import type { ServiceContext } from '../service-context.js';
import { checkEnvironmentParam } from './environment-params.js';

/**
 * Cost, for readers of state: totals of the priced task attempts per model, run or environment,
 * and an environment's cost with the cost it avoided by reusing versions others built.
 */

const READ = { permission: 'state:read' } as const;

/** Registers the two cost routes. */
export function registerCostRoutes(app: SchedulerApp, context: ServiceContext): void {
  app.get('/v1/cost', {
    schema: { querystring: costQuerySchema, response: { 200: costTotalsResponseSchema } },
    config: {
      access: READ,
      summary: 'Cost and usage of task attempts per model, run or environment, per currency',
    },
    handler: (request) => costTotalsInfo(context.store, request.query),
  });

  app.get('/v1/environments/:name/cost', {
    schema: { params: environmentPathSchema, response: { 200: environmentCostResponseSchema } },
    config: {
      access: READ,
      summary: "An environment's cost, and the cost it avoided by reusing versions",
    },
    handler: (request) =>
      environmentCostInfo(context.store, checkEnvironmentParam(request.params.name)),
  });
}
