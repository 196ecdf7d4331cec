import { listRunsResponseSchema, type RunInfo, runResponseSchema } from '../protocol/runs-api.js';
import {
  type ListedTaskInfo,
  MAX_TASK_PAGE,
  type RunTasksInfo,
  runTasksResponseSchema,
} from '../protocol/task-listing-api.js';
import { runInfo } from '../scheduler/http/routes/run-routes.js';
import { type RunTasksQuery, runTasksInfo } from '../scheduler/runs/task-listing-info.js';
import { listRuns, type RunQuery, readRun } from '../state/runs/run-store.js';
import type { StateStore } from '../state/state-store.js';
import { SchedulerApiClient } from './api-client.js';
import { remoteSettingsOf } from './client-access.js';
import type { CommandContext } from './output.js';
import type { StateCliOptions } from './state-context.js';
import { withStore } from './with-state.js';

/**
 * `sluice runs` and `sluice runs show` read through the Scheduler's API when SLUICE_URL is set,
 * and from the state store otherwise. Both sides answer in the API's shapes, built by the same
 * functions the routes use, so the commands print the same either way.
 */

/** What the run commands read, remotely or locally. */
export type RunAccess = {
  listRuns(query: RunQuery): Promise<readonly RunInfo[]>;
  readRun(runId: string): Promise<RunInfo>;
  runTasks(runId: string, query: RunTasksQuery): Promise<RunTasksInfo>;
};

/** Runs `work` against the API when SLUICE_URL is set, else against the state store. */
export async function withRunAccess<T>(
  context: CommandContext,
  options: StateCliOptions,
  work: (access: RunAccess) => Promise<T>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<T> {
  const remote = remoteSettingsOf(env);
  if (remote !== undefined) return work(remoteRunAccess(new SchedulerApiClient(remote)));
  return withStore(context, options, true, (store) => work(localRunAccess(store)));
}

/** The API's view: each read is one call. */
export function remoteRunAccess(api: SchedulerApiClient): RunAccess {
  return {
    listRuns: async (query) =>
      (
        await api.call({
          method: 'GET',
          path: '/v1/runs',
          query: {
            environment: query.environment,
            status: query.status,
            limit: query.limit,
            before_ms: query.beforeMs,
          },
          schema: listRunsResponseSchema,
        })
      ).runs,
    readRun: async (runId) => (await readRemoteRun(api, runId)).run,
    runTasks: (runId, query) =>
      api.call({
        method: 'GET',
        path: `/v1/runs/${encodeURIComponent(runId)}/tasks`,
        query: { status: query.status, limit: query.limit, after: query.after },
        schema: runTasksResponseSchema,
      }),
  };
}

/** The state store's view. */
export function localRunAccess(store: StateStore): RunAccess {
  return {
    listRuns: async (query) => (await listRuns(store, query)).map(runInfo),
    readRun: async (runId) => runInfo(await readRun(store, runId)),
    runTasks: (runId, query) => runTasksInfo(store, runId, query),
  };
}

/** One run, read from the Scheduler. */
export function readRemoteRun(api: SchedulerApiClient, runId: string) {
  return api.call({
    method: 'GET',
    path: `/v1/runs/${encodeURIComponent(runId)}`,
    schema: runResponseSchema,
  });
}

/** Every task of a run, reading page after page. */
export async function allRunTasks(access: RunAccess, runId: string): Promise<ListedTaskInfo[]> {
  const tasks: ListedTaskInfo[] = [];
  let after: string | undefined;
  do {
    const page = await access.runTasks(runId, { limit: MAX_TASK_PAGE, after });
    tasks.push(...page.tasks);
    after = page.next ?? undefined;
  } while (after !== undefined);
  return tasks;
}
