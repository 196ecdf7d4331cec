import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import {
  cancelRunResponseSchema,
  environmentRunPathSchema,
  listRunsQuerySchema,
  listRunsResponseSchema,
  type RunInfo,
  restateRequestSchema,
  runEventsQuerySchema,
  runEventsResponseSchema,
  runPathSchema,
  runResponseSchema,
  runStartedResponseSchema,
  startRunRequestSchema,
} from '../../../protocol/runs-api.js';
import { readRunEvents } from '../../../state/runs/run-events.js';
import {
  listRuns,
  type RunRecord,
  readRun,
  requestRunCancel,
} from '../../../state/runs/run-store.js';
import { startPlanApply } from '../../plans/plan-service.js';
import { startRestatement } from '../../plans/restatement.js';
import { startEnvironmentRun } from '../../runs/environment-runs.js';
import { checkFinished, modelsToRunAgain } from '../../runs/run-summary.js';
import { HttpProblem } from '../api-errors.js';
import type { SchedulerApp } from '../scheduler-app.js';
import type { ServiceContext } from '../service-context.js';
import { checkEnvironmentParam } from './environment-params.js';
import { actorOf, noFieldsSchema } from './route-helpers.js';

/**
 * Runs: start a run of an environment (developers on development environments, deployers and
 * admins anywhere), list and inspect runs and follow their events (any reader), cancel a run and
 * run again the models a run failed or skipped (as starting one).
 */

const READ = { permission: 'state:read' } as const;
const WRITE = { permission: 'environment:write', environmentParam: 'name' } as const;
const environmentPathSchema = z.strictObject({ name: z.string().min(1).max(200) });

/** How often a follower on another replica looks for new events while it waits. */
const FOLLOW_POLL_MS = 250;

/** Registers the run routes. */
export function registerRunRoutes(app: SchedulerApp, context: ServiceContext): void {
  registerReadRoutes(app, context);
  registerWriteRoutes(app, context);
}

function registerReadRoutes(app: SchedulerApp, context: ServiceContext): void {
  const { store } = context;

  app.get('/v1/runs', {
    schema: { querystring: listRunsQuerySchema, response: { 200: listRunsResponseSchema } },
    config: { access: READ, summary: 'List runs, newest first' },
    handler: async (request) => {
      const { environment, status, limit, before_ms } = request.query;
      const runs = await listRuns(store, {
        limit,
        ...(environment === undefined ? {} : { environment }),
        ...(status === undefined ? {} : { status }),
        ...(before_ms === undefined ? {} : { beforeMs: before_ms }),
      });
      return { runs: runs.map(runInfo) };
    },
  });

  app.get('/v1/runs/:id', {
    schema: { params: runPathSchema, response: { 200: runResponseSchema } },
    config: { access: READ, summary: 'One run, with its results once it ended' },
    handler: async (request) => ({ run: runInfo(await readRun(store, request.params.id)) }),
  });

  app.get('/v1/runs/:id/events', {
    schema: {
      params: runPathSchema,
      querystring: runEventsQuerySchema,
      response: { 200: runEventsResponseSchema },
    },
    config: {
      access: READ,
      summary: 'The events of a run after a sequence number; waits for one up to wait_sec',
    },
    handler: async (request) => {
      const { after, limit, wait_sec } = request.query;
      return followRun(context, request.params.id, { after, limit, waitMs: wait_sec * 1000 });
    },
  });
}

function registerWriteRoutes(app: SchedulerApp, context: ServiceContext): void {
  const { store } = context;

  app.post('/v1/environments/:name/runs', {
    schema: {
      params: environmentPathSchema,
      body: startRunRequestSchema.optional(),
      response: { 200: runStartedResponseSchema },
    },
    config: { access: WRITE, summary: 'Run what is due now in an environment, or some models' },
    handler: async (request) => {
      const runId = await startEnvironmentRun(context.runs, store, {
        environment: checkEnvironmentParam(request.params.name),
        kind: 'manual',
        requestedBy: actorOf(request),
        ...(request.body?.models === undefined ? {} : { modelNames: request.body.models }),
        nowMs: Date.now(),
      });
      return { run_id: runId };
    },
  });

  app.post('/v1/environments/:name/restate', {
    schema: {
      params: environmentPathSchema,
      body: restateRequestSchema,
      response: { 200: runStartedResponseSchema },
    },
    config: {
      access: { permission: 'plan:apply', environmentParam: 'name' },
      summary: 'Evaluate models (and their downstream models) again over a range',
    },
    handler: async (request) => {
      const { models, start_ms, end_ms } = request.body;
      if (end_ms <= start_ms) {
        throw new HttpProblem(400, 'request_invalid', 'end_ms must be after start_ms', 'end_ms');
      }
      const runId = await startRestatement(context.runs, store, {
        environment: checkEnvironmentParam(request.params.name),
        modelNames: models,
        range: [start_ms, end_ms],
        actor: actorOf(request),
        logger: context.logger,
      });
      return { run_id: runId };
    },
  });

  app.post('/v1/environments/:name/runs/:id/cancel', {
    schema: {
      params: environmentRunPathSchema,
      body: noFieldsSchema,
      response: { 200: cancelRunResponseSchema },
    },
    config: { access: WRITE, summary: 'Cancel a run: queued tasks end, running ones are told' },
    handler: async (request) => {
      const run = await runOfEnvironment(context, request.params);
      if (run.status === 'running') {
        await requestRunCancel(store, run.id);
        await context.runs.cancelLocal(run.id);
      }
      return { run: runInfo(await readRun(store, run.id)) };
    },
  });

  app.post('/v1/environments/:name/runs/:id/rerun', {
    schema: {
      params: environmentRunPathSchema,
      body: noFieldsSchema,
      response: { 200: runStartedResponseSchema },
    },
    config: {
      access: WRITE,
      summary: 'Run again what a finished run failed: its failed models, or its whole plan',
    },
    handler: async (request) => {
      const run = await runOfEnvironment(context, request.params);
      const actor = actorOf(request);
      if (run.kind === 'apply' && run.planId !== undefined) {
        checkFinished(run);
        const planId = run.planId;
        const runId = await startPlanApply(context.runs, store, {
          planId,
          actor,
          logger: context.logger,
        });
        return { run_id: runId };
      }
      const runId = await startEnvironmentRun(context.runs, store, {
        environment: run.environment,
        kind: 'manual',
        requestedBy: actor,
        modelNames: modelsToRunAgain(run),
        nowMs: Date.now(),
      });
      return { run_id: runId };
    },
  });
}

/** The run `id`, which must be of environment `name`. */
async function runOfEnvironment(
  context: ServiceContext,
  params: { readonly name: string; readonly id: string },
): Promise<RunRecord> {
  const name = checkEnvironmentParam(params.name);
  const run = await readRun(context.store, params.id);
  if (run.environment !== name) {
    throw new HttpProblem(
      409,
      'usage',
      `Run ${run.id} is a run of environment '${run.environment}', not '${name}'`,
    );
  }
  return run;
}

/**
 * The events after `after`; when there are none and the run goes on, waits up to `waitMs` for
 * some (woken at once by runs coordinated here, polling for runs coordinated elsewhere).
 */
async function followRun(
  context: ServiceContext,
  runId: string,
  page: { readonly after: number; readonly limit: number; readonly waitMs: number },
) {
  const { store } = context;
  const deadline = Date.now() + page.waitMs;
  for (;;) {
    const run = await readRun(store, runId);
    const events = await readRunEvents(store, runId, page.after, page.limit);
    const isOver = run.status !== 'running' || Date.now() >= deadline;
    if (events.length > 0 || isOver) {
      return {
        events: events.map(({ seq, event }) => ({ seq, event: asRecord(event) })),
        run: runInfo(run),
      };
    }
    await waitForProgress(context, runId, Math.min(FOLLOW_POLL_MS, deadline - Date.now()));
  }
}

function waitForProgress(context: ServiceContext, runId: string, waitMs: number): Promise<void> {
  const controller = new AbortController();
  const stop = context.runs.onProgress(runId, () => controller.abort());
  return sleep(Math.max(1, waitMs), undefined, { signal: controller.signal })
    .catch(() => undefined)
    .finally(stop);
}

/** A run in its wire form. */
export function runInfo(run: RunRecord): RunInfo {
  return {
    id: run.id,
    kind: run.kind,
    environment: run.environment,
    pool: run.pool,
    status: run.status,
    plan_id: run.planId ?? null,
    requested_by: run.requestedBy,
    created_at_ms: run.createdAtMs,
    finished_at_ms: run.finishedAtMs ?? null,
    is_cancel_requested: run.isCancelRequested,
    summary: run.summary === undefined ? null : asRecord(run.summary),
  };
}

function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
}
