import { z } from 'zod';
import type { Plan } from '../../../core/plan.js';
import { hasWork } from '../../../core/plan.js';
import type { Snapshot } from '../../../core/snapshot.js';
import {
  applyPlanResponseSchema,
  PLAN_BODY_LIMIT_BYTES,
  type PlanInfo,
  planInfoResponseSchema,
  planPathSchema,
  type SubmitPlanRequest,
  submitPlanRequestSchema,
  submitPlanResponseSchema,
} from '../../../protocol/plans-api.js';
import { readPlan } from '../../../state/plan-store.js';
import { startPlanApply, submitPlan } from '../../plans/plan-service.js';
import { HttpProblem } from '../api-errors.js';
import type { SchedulerApp } from '../scheduler-app.js';
import type { ServiceContext } from '../service-context.js';
import { checkEnvironmentParam } from './environment-params.js';
import { actorOf, noFieldsSchema } from './route-helpers.js';

/**
 * Plans: the CLI sends the project's snapshots and the Scheduler answers with the plan, stored
 * when it has changes (developers, deployers and admins, for any environment: a plan changes
 * nothing); applying it starts a run (developers on development environments, deployers and
 * admins anywhere).
 */

const environmentPathSchema = z.strictObject({ name: z.string().min(1).max(200) });
const planOfEnvironmentPathSchema = z.strictObject({
  name: z.string().min(1).max(200),
  id: z.string().min(1).max(200),
});

/** Registers the plan routes. */
export function registerPlanRoutes(app: SchedulerApp, context: ServiceContext): void {
  const { store } = context;

  app.get('/v1/plans/:id', {
    schema: { params: planPathSchema, response: { 200: planInfoResponseSchema } },
    config: { access: { permission: 'state:read' }, summary: 'A stored plan and its status' },
    handler: async (request) => {
      const stored = await readPlan(store, request.params.id);
      return { plan: wirePlan(stored.plan), status: stored.status };
    },
  });

  app.post('/v1/environments/:name/plans', {
    bodyLimit: PLAN_BODY_LIMIT_BYTES,
    schema: {
      params: environmentPathSchema,
      body: submitPlanRequestSchema,
      response: { 200: submitPlanResponseSchema },
    },
    config: {
      access: { permission: 'plan:create' },
      summary: "Compare the project's snapshots with an environment; store and return the plan",
    },
    handler: async (request) => {
      const name = checkEnvironmentParam(request.params.name);
      if (request.body.environment !== name) {
        throw new HttpProblem(
          400,
          'request_invalid',
          `The body names environment '${request.body.environment}' but the path '${name}'`,
          'environment',
        );
      }
      const plan = await submitPlan(store, submissionOf(request.body, new Date()));
      if (!hasWork(plan)) return { has_changes: false };
      return { has_changes: true, plan: wirePlan(plan) };
    },
  });

  app.post('/v1/environments/:name/plans/:id/apply', {
    schema: {
      params: planOfEnvironmentPathSchema,
      body: noFieldsSchema,
      response: { 200: applyPlanResponseSchema },
    },
    config: {
      access: { permission: 'plan:apply', environmentParam: 'name' },
      summary: 'Apply a stored plan: a run builds, audits and promotes; follow it by its events',
    },
    handler: async (request) => {
      const name = checkEnvironmentParam(request.params.name);
      const stored = await readPlan(store, request.params.id);
      if (stored.plan.environment !== name) {
        throw new HttpProblem(
          409,
          'usage',
          `Plan ${stored.plan.id} is for environment '${stored.plan.environment}', not '${name}'`,
        );
      }
      const runId = await startPlanApply(context.runs, store, {
        planId: stored.plan.id,
        actor: actorOf(request),
        logger: context.logger,
      });
      return { run_id: runId };
    },
  });
}

/** The stored form: what JSON keeps of the plan (readonly arrays, no undefined members). */
function wirePlan(plan: Plan): PlanInfo {
  return JSON.parse(JSON.stringify(plan)) as PlanInfo;
}

function submissionOf(body: SubmitPlanRequest, now: Date) {
  const snapshots = new Map<string, Snapshot>(
    body.snapshots.map((snapshot) => [snapshot.name, snapshot as unknown as Snapshot]),
  );
  const { range, ...options } = body.options;
  const planOptions: Plan['options'] = { ...options, range: range ?? undefined };
  return {
    environment: body.environment,
    snapshots,
    order: body.order,
    options: planOptions,
    target: { ...body.target, environmentTtlMs: body.target.environmentTtlMs },
    now,
  };
}
