import { checkEnvironmentName } from '../../core/environments.js';
import { SluiceError } from '../../core/errors.js';
import {
  COST_GROUPINGS,
  type CostGroupingName,
  type CostTotalsInfo,
  type EnvironmentCostInfo,
  parseInstantMs,
} from '../../protocol/cost-api.js';
import type { CostTotalsQuery } from '../../scheduler/cost/cost-info.js';
import { withLogCostAccess } from '../log-cost-access.js';
import type { CommandContext } from '../output.js';
import type { StateCliOptions } from '../state-context.js';
import { costTotalsText, environmentCostText } from './cost-text.js';

/**
 * `sluice cost`: what task attempts cost, per model (default), run or environment, over an
 * optional time range, per currency; with --environment, only that environment's attempts, and
 * the cost it avoided by reusing versions that other environments built. Through the API when
 * SLUICE_URL is set, else from the state store.
 */

export type CostOptions = StateCliOptions & {
  readonly by?: string;
  readonly environment?: string;
  readonly since?: string;
  readonly until?: string;
  readonly format?: string;
};

/** What `sluice cost --format json` prints. */
type CostReport = CostTotalsInfo & { readonly environment_cost?: EnvironmentCostInfo };

/** Runs `sluice cost`. */
export async function costCommand(context: CommandContext, options: CostOptions): Promise<void> {
  const query = parseQuery(options);

  const report = await withLogCostAccess(context, options, async (access) => {
    const totals = await access.costTotals(query);
    if (query.environment === undefined) return totals;
    const environmentCost = await access.environmentCost(query.environment);
    return { ...totals, environment_cost: environmentCost } satisfies CostReport;
  });

  const out = context.output.stdout;
  if (options.format === 'json') {
    out.write(`${JSON.stringify(report, null, 2)}\n`);
    return;
  }
  out.write(costTotalsText(report));
  if ('environment_cost' in report) out.write(environmentCostText(report.environment_cost));
}

function parseQuery(options: CostOptions): CostTotalsQuery {
  return {
    group_by: groupingOf(options.by),
    environment:
      options.environment === undefined ? undefined : checkEnvironmentName(options.environment),
    since: instantOf(options.since, '--since'),
    until: instantOf(options.until, '--until'),
  };
}

function groupingOf(text: string | undefined): CostGroupingName {
  if (text === undefined) return 'model';
  const grouping = COST_GROUPINGS.find((known) => known === text);
  if (grouping !== undefined) return grouping;
  throw new SluiceError(
    'usage',
    `--by '${text}' is not a grouping; use one of ${COST_GROUPINGS.join(', ')}`,
  );
}

function instantOf(text: string | undefined, option: string): string | undefined {
  if (text === undefined || parseInstantMs(text) !== undefined) return text;
  throw new SluiceError(
    'usage',
    `${option} '${text}' is not an ISO 8601 date or time with a zone; write 2024-05-01 or ` +
      '2024-05-01T12:00Z',
  );
}
