import {
  type CostGroupingName,
  type CostTotalInfo,
  type CostTotalsInfo,
  type EnvironmentCostInfo,
  parseInstantMs,
} from '../../protocol/cost-api.js';
import type { StateStore } from '../../state/state-store.js';
import {
  type CostFilter,
  type CostTotal,
  readCostTotals,
  readEnvironmentCost,
} from '../../state/tasks/task-costs.js';
import { HttpProblem } from '../http/api-errors.js';

/**
 * Cost in the API's terms, shared by the cost routes and the CLI working on the state store, so
 * that both answer the same.
 */

/** The API's query of totals; instants as ISO 8601 text, checked by the API's schema. */
export type CostTotalsQuery = {
  readonly group_by?: CostGroupingName | undefined;
  readonly environment?: string | undefined;
  readonly since?: string | undefined;
  readonly until?: string | undefined;
};

/** Totals grouped by model (default), run or environment. */
export async function costTotalsInfo(
  store: StateStore,
  query: CostTotalsQuery,
): Promise<CostTotalsInfo> {
  const groupBy = query.group_by ?? 'model';
  const totals = await readCostTotals(store, groupBy, filterOf(query));
  return { group_by: groupBy, totals: totals.map(costTotalInfo) };
}

/**
 * An environment's cost and the cost it avoided; 404 when it has neither record nor cost. The
 * caller has checked the name.
 */
export async function environmentCostInfo(
  store: StateStore,
  environment: string,
): Promise<EnvironmentCostInfo> {
  const cost = await readEnvironmentCost(store, environment);
  if (cost === undefined) {
    throw new HttpProblem(
      404,
      'usage',
      `Environment '${environment}' does not exist and has no recorded cost; check its name ` +
        "with 'sluice environments'",
    );
  }
  return {
    environment: cost.environment,
    total: costTotalInfo(cost.total),
    avoided: {
      costs: [...cost.avoided.costs],
      versions: cost.avoided.versions,
      attempts: cost.avoided.attempts,
    },
  };
}

function costTotalInfo(total: CostTotal): CostTotalInfo {
  return {
    key: total.key,
    costs: [...total.costs],
    attempts: total.attempts,
    unpriced_attempts: total.unpricedAttempts,
    duration_ms: total.durationMs,
    bytes_scanned: total.bytesScanned,
    rows_written: total.rowsWritten,
  };
}

function filterOf(query: CostTotalsQuery): CostFilter {
  const sinceMs = query.since === undefined ? undefined : instantOf(query.since, 'since');
  const untilMs = query.until === undefined ? undefined : instantOf(query.until, 'until');
  return {
    ...(query.environment === undefined ? {} : { environment: query.environment }),
    ...(sinceMs === undefined ? {} : { sinceMs }),
    ...(untilMs === undefined ? {} : { untilMs }),
  };
}

function instantOf(text: string, field: string): number {
  const ms = parseInstantMs(text);
  if (ms !== undefined) return ms;
  throw new HttpProblem(
    400,
    'request_invalid',
    `'${field}' must be an ISO 8601 date or time with a zone, such as 2024-05-01 or ` +
      '2024-05-01T12:00Z',
    `query.${field}`,
  );
}
