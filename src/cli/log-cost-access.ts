import {
  type CostTotalsInfo,
  costTotalsResponseSchema,
  type EnvironmentCostInfo,
  environmentCostResponseSchema,
} from '../protocol/cost-api.js';
import {
  encodeLogCursor,
  type LogSearchInfo,
  logSearchResponseSchema,
} from '../protocol/logs-api.js';
import {
  type CostTotalsQuery,
  costTotalsInfo,
  environmentCostInfo,
} from '../scheduler/cost/cost-info.js';
import { type LogOwner, type LogQuery, searchLogsInfo } from '../scheduler/logs/log-search-info.js';
import type { StateStore } from '../state/state-store.js';
import { SchedulerApiClient } from './api-client.js';
import { remoteSettingsOf } from './client-access.js';
import type { CommandContext } from './output.js';
import type { StateCliOptions } from './state-context.js';
import { withStore } from './with-state.js';

/**
 * `sluice logs` and `sluice cost` read through the Scheduler's API when SLUICE_URL is set, and
 * from the state store otherwise. Both sides answer in the API's shapes, built by the same
 * functions the routes use, so the commands print the same either way.
 */

/** What the log and cost commands read, remotely or locally. */
export type LogCostAccess = {
  searchLogs(owner: LogOwner, query: LogQuery): Promise<LogSearchInfo>;
  costTotals(query: CostTotalsQuery): Promise<CostTotalsInfo>;
  environmentCost(environment: string): Promise<EnvironmentCostInfo>;
};

/** Runs `work` against the API when SLUICE_URL is set, else against the state store. */
export async function withLogCostAccess<T>(
  context: CommandContext,
  options: StateCliOptions,
  work: (access: LogCostAccess) => Promise<T>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<T> {
  const remote = remoteSettingsOf(env);
  if (remote !== undefined) return work(remoteLogCostAccess(new SchedulerApiClient(remote)));
  return withStore(context, options, true, (store) => work(localLogCostAccess(store)));
}

/** The API's view: each read is one call. */
export function remoteLogCostAccess(api: SchedulerApiClient): LogCostAccess {
  return {
    searchLogs: (owner, query) =>
      api.call({
        method: 'GET',
        path:
          'runId' in owner
            ? `/v1/runs/${encodeURIComponent(owner.runId)}/logs`
            : `/v1/tasks/${encodeURIComponent(owner.taskId)}/logs`,
        query: {
          attempt: query.attempt,
          level: query.level,
          q: query.q,
          order: query.order,
          limit: query.limit,
          after: query.after === undefined ? undefined : encodeLogCursor(query.after),
        },
        schema: logSearchResponseSchema,
      }),
    costTotals: (query) =>
      api.call({ method: 'GET', path: '/v1/cost', query, schema: costTotalsResponseSchema }),
    environmentCost: (environment) =>
      api.call({
        method: 'GET',
        path: `/v1/environments/${encodeURIComponent(environment)}/cost`,
        schema: environmentCostResponseSchema,
      }),
  };
}

/** The state store's view. */
export function localLogCostAccess(store: StateStore): LogCostAccess {
  return {
    searchLogs: (owner, query) => searchLogsInfo(store, owner, query),
    costTotals: (query) => costTotalsInfo(store, query),
    environmentCost: (environment) => environmentCostInfo(store, environment),
  };
}
