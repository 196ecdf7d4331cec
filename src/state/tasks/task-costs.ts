import { readEnvironment } from '../environment-store.js';
import { readVersionIdsOfSnapshots } from '../janitor-store.js';
import type { StateStore } from '../state-store.js';
import { COSTS_TABLE } from './attempt-pricing.js';
import type { Db } from './task-rows.js';

/**
 * Cost totals over the priced attempts in `sluice_task_costs`: per model, run or environment,
 * over an optional time range (when the attempt was priced), kept apart per currency; and, for
 * an environment, the cost it avoided by reusing versions.
 *
 * The cost avoided by reusing versions, for environment E, is defined as: the sum of the cost of
 * every priced attempt (succeeded or failed) of a task that carried a version E's current
 * snapshots use, in a run of an environment other than E. Those attempts built tables that E
 * points at without having paid for them. Attempts of E's own runs on those versions (intervals
 * E evaluated itself) are E's cost, not avoided; attempts whose environment is not recorded are
 * left out, since it cannot be said whose they were.
 */

/** What totals are grouped by. */
export type CostGrouping = 'model' | 'run' | 'environment';

/** Which priced attempts to count: of one environment, priced in `[sinceMs, untilMs)`. */
export type CostFilter = {
  readonly environment?: string;
  readonly sinceMs?: number;
  readonly untilMs?: number;
};

/** An amount of one currency. */
export type CostAmount = { readonly currency: string; readonly amount: number };

/** The cost and usage of the attempts of one model, run or environment. */
export type CostTotal = {
  /** The model, run or environment; null for attempts without one (promotions have no model). */
  readonly key: string | null;
  /** One amount per currency, by currency code. */
  readonly costs: readonly CostAmount[];
  readonly attempts: number;
  /** Attempts without a cost: no rate for their gateway, or no usage the rate prices. */
  readonly unpricedAttempts: number;
  readonly durationMs: number;
  readonly bytesScanned: number;
  readonly rowsWritten: number;
};

/** The cost an environment avoided by reusing versions that other environments built. */
export type AvoidedCost = {
  readonly costs: readonly CostAmount[];
  /** How many of the environment's versions other environments paid to build. */
  readonly versions: number;
  readonly attempts: number;
};

/** An environment's own cost and the cost it avoided. */
export type EnvironmentCost = {
  readonly environment: string;
  readonly total: CostTotal;
  readonly avoided: AvoidedCost;
};

const GROUP_COLUMNS: Readonly<Record<CostGrouping, string>> = {
  model: 'model_name',
  run: 'run_id',
  environment: 'environment',
};

const IDS_PER_QUERY = 500;

/** Totals per model, run or environment, ordered by key (attempts without one last). */
export async function readCostTotals(
  store: StateStore,
  grouping: CostGrouping,
  filter: CostFilter = {},
): Promise<CostTotal[]> {
  const column = GROUP_COLUMNS[grouping];
  const rows = await filtered(store.db, filter)
    .select((select) => [
      select.ref(column).as('key'),
      'currency',
      select.fn.countAll().as('attempts'),
      select.fn.count('cost').as('priced'),
      select.fn.sum('cost').as('amount'),
      select.fn.sum('duration_ms').as('duration_ms'),
      select.fn.sum('bytes_scanned').as('bytes_scanned'),
      select.fn.sum('rows_written').as('rows_written'),
    ])
    .groupBy([column, 'currency'])
    .execute();

  const totals = new Map<string | null, CostTotal>();
  for (const row of rows) {
    const key = row.key === null ? null : String(row.key);
    totals.set(key, addRow(totals.get(key) ?? emptyTotal(key), row));
  }
  return [...totals.values()].sort(byKey);
}

/**
 * The environment's total and the cost it avoided; undefined when the environment neither exists
 * nor has priced attempts.
 */
export async function readEnvironmentCost(
  store: StateStore,
  environment: string,
): Promise<EnvironmentCost | undefined> {
  const [total] = await readCostTotals(store, 'environment', { environment });
  const record = await readEnvironment(store, environment);
  if (record === undefined && total === undefined) return undefined;

  const snapshotIds = Object.values(record?.snapshotIds ?? {});
  const versionIds = await readVersionIdsOfSnapshots(store, [...new Set(snapshotIds)]);
  return {
    environment,
    total: total ?? emptyTotal(environment),
    avoided: await readAvoidedCost(store, environment, [...new Set(versionIds.values())]),
  };
}

/** The priced attempts on `versionIds` in runs of environments other than `environment`. */
async function readAvoidedCost(
  store: StateStore,
  environment: string,
  versionIds: readonly string[],
): Promise<AvoidedCost> {
  const amounts = new Map<string, number>();
  const versions = new Set<string>();
  let attempts = 0;
  for (let start = 0; start < versionIds.length; start += IDS_PER_QUERY) {
    const rows = await store.db
      .selectFrom(COSTS_TABLE)
      .select((select) => [
        'version_id',
        'currency',
        select.fn.countAll().as('attempts'),
        select.fn.sum('cost').as('amount'),
      ])
      .where('version_id', 'in', versionIds.slice(start, start + IDS_PER_QUERY))
      .where('environment', 'is not', null)
      .where('environment', '<>', environment)
      .where('cost', 'is not', null)
      .groupBy(['version_id', 'currency'])
      .execute();
    for (const row of rows) {
      const currency = String(row.currency);
      amounts.set(currency, (amounts.get(currency) ?? 0) + Number(row.amount));
      versions.add(String(row.version_id));
      attempts += Number(row.attempts);
    }
  }
  return { costs: amountsOf(amounts), versions: versions.size, attempts };
}

function filtered(db: Db, filter: CostFilter) {
  return db
    .selectFrom(COSTS_TABLE)
    .$if(filter.environment !== undefined, (query) =>
      query.where('environment', '=', filter.environment as string),
    )
    .$if(filter.sinceMs !== undefined, (query) =>
      query.where('priced_at_ms', '>=', filter.sinceMs as number),
    )
    .$if(filter.untilMs !== undefined, (query) =>
      query.where('priced_at_ms', '<', filter.untilMs as number),
    );
}

function emptyTotal(key: string | null): CostTotal {
  return {
    key,
    costs: [],
    attempts: 0,
    unpricedAttempts: 0,
    durationMs: 0,
    bytesScanned: 0,
    rowsWritten: 0,
  };
}

/** A total with one (key, currency) group's row added. */
function addRow(total: CostTotal, row: Record<string, unknown>): CostTotal {
  const attempts = Number(row.attempts);
  const priced = Number(row.priced);
  const costs =
    row.currency === null || priced === 0
      ? total.costs
      : [...total.costs, { currency: String(row.currency), amount: Number(row.amount) }];
  return {
    key: total.key,
    costs: [...costs].sort((a, b) => a.currency.localeCompare(b.currency)),
    attempts: total.attempts + attempts,
    unpricedAttempts: total.unpricedAttempts + attempts - priced,
    durationMs: total.durationMs + Number(row.duration_ms ?? 0),
    bytesScanned: total.bytesScanned + Number(row.bytes_scanned ?? 0),
    rowsWritten: total.rowsWritten + Number(row.rows_written ?? 0),
  };
}

function amountsOf(amounts: ReadonlyMap<string, number>): CostAmount[] {
  return [...amounts]
    .map(([currency, amount]) => ({ currency, amount }))
    .sort((a, b) => a.currency.localeCompare(b.currency));
}

function byKey(a: CostTotal, b: CostTotal): number {
  if (a.key === b.key) return 0;
  if (a.key === null) return 1;
  if (b.key === null) return -1;
  return a.key < b.key ? -1 : 1;
}
