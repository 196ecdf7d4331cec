import { SluiceError } from '../core/errors.js';
import type { Plan, PlanOptions } from '../core/plan.js';
import type { Project } from '../project/project.js';
import { planInfoResponseSchema, submitPlanResponseSchema } from '../protocol/plans-api.js';
import {
  type RunInfo,
  runEventsResponseSchema,
  runStartedResponseSchema,
} from '../protocol/runs-api.js';
import type { ModelResult, RunEvent } from '../scheduler/runs/run-coordinator.js';
import type { SchedulerApiClient } from './api-client.js';
import { projectVersions } from './project-run-setup.js';

/**
 * The CLI's side of plans and runs through the Scheduler: it sends the project's snapshots
 * (computed here from the project on disk; never gateway settings), starts applies and runs,
 * and follows a run's events, which it hands to the same reporter as its local mode.
 */

/** How long one call for events waits when none is there yet; under the client's timeout. */
const FOLLOW_WAIT_SEC = 20;

/** Asks the Scheduler for a plan of `environment`; undefined when nothing changes. */
export async function submitRemotePlan(
  api: SchedulerApiClient,
  project: Project,
  environment: string,
  options: PlanOptions,
): Promise<Plan | undefined> {
  const { gateway, snapshots } = await projectVersions(project);
  const ttlMs = project.config.environmentTtlMs;
  const answer = await api.call({
    method: 'POST',
    path: `/v1/environments/${encodeURIComponent(environment)}/plans`,
    body: {
      environment,
      target: {
        projectName: project.config.name,
        gateway: gateway.name,
        engine: gateway.type,
        ...(ttlMs === undefined ? {} : { environmentTtlMs: ttlMs }),
      },
      order: project.dag.nodes,
      options,
      snapshots: [...snapshots.values()],
    },
    schema: submitPlanResponseSchema,
  });
  return answer.plan as Plan | undefined;
}

/** A stored plan, read from the Scheduler. */
export async function readRemotePlan(api: SchedulerApiClient, planId: string): Promise<Plan> {
  const answer = await api.call({
    method: 'GET',
    path: `/v1/plans/${encodeURIComponent(planId)}`,
    schema: planInfoResponseSchema,
  });
  return answer.plan as Plan;
}

/** Starts applying a stored plan; the run's id. */
export async function startRemoteApply(api: SchedulerApiClient, plan: Plan): Promise<string> {
  const environment = encodeURIComponent(plan.environment);
  const answer = await api.call({
    method: 'POST',
    path: `/v1/environments/${environment}/plans/${encodeURIComponent(plan.id)}/apply`,
    body: {},
    schema: runStartedResponseSchema,
  });
  return answer.run_id;
}

/** Starts a run of what is due in `environment`; the run's id. */
export async function startRemoteRun(api: SchedulerApiClient, environment: string) {
  const answer = await api.call({
    method: 'POST',
    path: `/v1/environments/${encodeURIComponent(environment)}/runs`,
    body: {},
    schema: runStartedResponseSchema,
  });
  return answer.run_id;
}

/** Hands every event of the run to `onEvent` as it comes; the run once it has ended. */
export async function followRemoteRun(
  api: SchedulerApiClient,
  runId: string,
  onEvent: (event: RunEvent) => void,
): Promise<RunInfo> {
  let after = 0;
  for (;;) {
    const page = await api.call({
      method: 'GET',
      path: `/v1/runs/${encodeURIComponent(runId)}/events`,
      query: { after, wait_sec: FOLLOW_WAIT_SEC },
      schema: runEventsResponseSchema,
    });
    for (const { seq, event } of page.events) {
      onEvent(event as unknown as RunEvent);
      after = seq;
    }
    if (page.run.status !== 'running' && page.events.length === 0) return page.run;
  }
}

/** The model results a finished run recorded. */
export function remoteModelResults(run: RunInfo): readonly ModelResult[] {
  const models = run.summary?.models;
  return Array.isArray(models) ? (models as ModelResult[]) : [];
}

/**
 * The error of a run that ended without results of its own (refused before its work began, or
 * abandoned); undefined when it has results.
 */
export function remoteRunError(run: RunInfo): SluiceError | undefined {
  const error = run.summary?.error as { code?: string; message?: string } | undefined;
  if (error?.message !== undefined) return new SluiceError('run_failed', error.message);
  if (run.status === 'abandoned') {
    return new SluiceError(
      'run_failed',
      `Run ${run.id} was abandoned: the Scheduler coordinating it stopped. What it finished is ` +
        'kept; run again to go on',
    );
  }
  if (run.status === 'cancelled')
    return new SluiceError('run_failed', `Run ${run.id} was cancelled`);
  return undefined;
}
