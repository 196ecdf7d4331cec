import type { Db } from './task-rows.js';
import { attemptIdOf, TASKS_TABLE } from './task-rows.js';

/**
 * Pricing a task attempt when its completion is accepted: the gateway the task ran on names a
 * rate, per compute hour (the attempt's duration as the Executor measured it) or per TB scanned
 * (the bytes the engine reported, 1 TB = 10^12 bytes). Without a rate, or for a per-TB rate when
 * the engine reported no bytes, the cost is null and the usage is still kept. One row per attempt
 * in `sluice_task_costs`, written in the completion's transaction, with the task's run,
 * environment, model, version and gateway, so that totals need no join with the queue.
 */

export const COSTS_TABLE = 'sluice_task_costs';

/** How a gateway's work is priced. */
export type CostRateKind = 'per_compute_hour' | 'per_tb_scanned';

/** One gateway's rate: so much of `currency` per compute hour or per TB scanned. */
export type GatewayRate = {
  readonly kind: CostRateKind;
  readonly amount: number;
  /** An ISO 4217 code, such as `USD`. */
  readonly currency: string;
};

/** Rates by gateway name; a gateway without one is not priced. */
export type CostRates = ReadonlyMap<string, GatewayRate>;

/** What an attempt used, as its Executor reported it. */
export type AttemptUsage = {
  readonly durationMs: number;
  /** Bytes the engine says it scanned; absent when the engine does not say. */
  readonly bytesScanned?: number;
  readonly rowsWritten?: number;
};

/** What pricing an attempt needs: its usage and the Scheduler's rates. */
export type AttemptPricing = { readonly usage: AttemptUsage; readonly rates: CostRates };

const MS_PER_HOUR = 3_600_000;
const BYTES_PER_TB = 1e12;

/** The cost of an attempt at a rate; null without a rate or without the usage it prices. */
export function priceAttempt(rate: GatewayRate | undefined, usage: AttemptUsage): number | null {
  if (rate === undefined) return null;
  if (rate.kind === 'per_compute_hour') return (usage.durationMs / MS_PER_HOUR) * rate.amount;
  if (usage.bytesScanned === undefined) return null;
  return (usage.bytesScanned / BYTES_PER_TB) * rate.amount;
}

/** The attempt priced, as stored. */
export type AttemptCall = {
  readonly taskId: string;
  readonly epoch: number;
  readonly attempt: number;
  readonly nowMs: number;
};

/**
 * Writes the cost row of one attempt inside the completion's transaction `db`. The row's id is
 * the attempt's, so an attempt is priced once even if this were reached twice.
 */
export async function recordAttemptCost(
  db: Db,
  call: AttemptCall,
  pricing: AttemptPricing,
): Promise<void> {
  const task = await db
    .selectFrom(TASKS_TABLE)
    .select(['run_id', 'environment', 'model_name', 'version_id', 'gateway'])
    .where('id', '=', call.taskId)
    .executeTakeFirstOrThrow();
  const gateway = String(task.gateway);
  const rate = pricing.rates.get(gateway);
  const cost = priceAttempt(rate, pricing.usage);

  await db
    .insertInto(COSTS_TABLE)
    .values({
      id: attemptIdOf(call.taskId, call.epoch),
      task_id: call.taskId,
      run_id: task.run_id,
      environment: task.environment,
      model_name: task.model_name,
      version_id: task.version_id,
      gateway,
      attempt: call.attempt,
      duration_ms: pricing.usage.durationMs,
      bytes_scanned: pricing.usage.bytesScanned ?? null,
      rows_written: pricing.usage.rowsWritten ?? null,
      rate_kind: cost === null ? null : (rate?.kind ?? null),
      currency: cost === null ? null : (rate?.currency ?? null),
      cost,
      priced_at_ms: call.nowMs,
    })
    .onConflict((conflict) => conflict.column('id').doNothing())
    .execute();
}
