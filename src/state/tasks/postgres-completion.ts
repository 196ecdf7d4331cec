import { CompiledQuery } from 'kysely';
import type { TaskPool } from '../../core/task-pool.js';
import { PREPARED_MARK } from '../postgres/prepared-statements.js';
import type { StateStore } from '../state-store.js';
import { type AttemptPricing, priceAttempt } from './attempt-pricing.js';
import type { LeaseCall } from './task-holder.js';
import { attemptIdOf, distinctPools } from './task-rows.js';
import { readyChannelOf } from './task-signals.js';

/**
 * A successful completion on PostgreSQL as one statement, where the general path
 * (complete-task.ts) needs a transaction of twelve round trips. It finishes the task if the
 * caller holds it at its epoch and no completion was stored under the key yet, makes ready the
 * tasks that waited only for it, stores the completion, writes the cost row and sends the
 * NOTIFY; a single statement is atomic on its own, so no BEGIN and COMMIT are needed.
 *
 * It changes nothing, and leaves the completion to the general path, when a task waiting for
 * this one also waits for another task that has not succeeded as the statement sees it. That
 * other task may be completing at this very moment, and each statement sees only what was
 * committed when it began, so both completions could find the other unfinished and leave their
 * waiting task blocked for good; the general path locks the waiting task first and decides in a
 * later statement, which sees the other completion once it has committed (releaseUnblocked in
 * task-rows.ts). When every other upstream task has succeeded, nothing can race: their
 * completions have committed. A task whose success records a processed range for its version
 * (`record_start_ms`) also takes the general path, which records it in the same transaction.
 *
 * The statement locks only the task and the tasks it makes ready, in that order, as the general
 * path does. Every row is found by its key (`= ANY(ARRAY(...))`), and the status of a task made
 * ready is checked on its row, so that the plan does not depend on the table's statistics. The
 * text is fixed, and prepared once per connection (prepared-statements.ts).
 */

/** A success to record: the lease call, its key, the sealed completion and the pricing. */
export type SuccessCall = LeaseCall & {
  readonly idempotencyKey: string;
  /** The stored completion (answer and report), already encrypted for the attempt's row. */
  readonly completion: Buffer;
  readonly pricing?: AttemptPricing;
};

/**
 * Parameters: $1 task, $2 key, $3 now, $4 owner, $5 epoch, $6 completion, $7 attempt id,
 * $8 NOTIFY channel; with pricing, $9 duration, $10 bytes scanned, $11 rows written and, per
 * gateway with a rate, $12 its name, $13 the rate's kind, $14 currency and $15 the cost.
 */
function successStatement(isPriced: boolean): string {
  return `${PREPARED_MARK}
    WITH replayed AS (
      SELECT 1 FROM sluice_task_attempts WHERE task_id = $1::text AND completion_key = $2::text
    ),
    waiting AS (
      SELECT task_id AS id,
        (SELECT status FROM sluice_tasks task WHERE task.id = d.task_id) AS status,
        ARRAY(
          SELECT upstream_id FROM sluice_task_dependencies edge
          WHERE edge.task_id = d.task_id AND edge.upstream_id <> $1::text
        ) AS other_upstream_ids
      FROM sluice_task_dependencies d WHERE upstream_id = $1::text
    ),
    releasable AS (
      SELECT id, NOT EXISTS (
        SELECT 1 FROM sluice_tasks upstream
        WHERE upstream.id = ANY(waiting.other_upstream_ids) AND upstream.status <> 'succeeded'
      ) AS is_releasable
      FROM waiting WHERE status = 'blocked'
    ),
    finished AS (
      UPDATE sluice_tasks
      SET status = 'succeeded', lease_expires_at_ms = NULL, finished_at_ms = $3::bigint
      WHERE id = $1::text AND status = 'leased' AND owner = $4::text AND epoch = $5::integer
        AND record_start_ms IS NULL AND NOT EXISTS (SELECT 1 FROM replayed)
        AND NOT EXISTS (SELECT 1 FROM releasable WHERE NOT is_releasable)
      RETURNING pool, attempt, run_id, environment, model_name, version_id, gateway
    ),
    released AS (
      UPDATE sluice_tasks SET status = 'ready', ready_at_ms = $3::bigint
      WHERE id = ANY(ARRAY(SELECT id FROM releasable WHERE is_releasable))
        AND (status = 'blocked') IS TRUE AND EXISTS (SELECT 1 FROM finished)
      RETURNING pool
    ),
    recorded AS (
      UPDATE sluice_task_attempts
      SET ended_at_ms = $3::bigint, ended_as = 'completed', completion_key = $2::text,
        completion = $6::bytea
      WHERE id = $7::text AND EXISTS (SELECT 1 FROM finished)
    )${isPriced ? PRICED : ''},
    pools AS (SELECT pool FROM released UNION SELECT pool FROM finished)
    SELECT finished.pool,
      pg_notify($8::text, (SELECT string_agg(pool, ',' ORDER BY pool) FROM pools)) AS notified,
      ARRAY(SELECT DISTINCT pool FROM released) AS released
    FROM finished`;
}

/** The cost row, priced at the rate of the task's gateway, if it has one. */
const PRICED = `,
    priced AS (
      INSERT INTO sluice_task_costs (id, task_id, run_id, environment, model_name, version_id,
        gateway, attempt, duration_ms, bytes_scanned, rows_written, rate_kind, currency, cost,
        priced_at_ms)
      SELECT $7::text, $1::text, run_id, environment, model_name, version_id, finished.gateway,
        attempt, $9::bigint, $10::bigint, $11::bigint, rate.kind, rate.currency, rate.cost,
        $3::bigint
      FROM finished
      LEFT JOIN unnest($12::text[], $13::text[], $14::text[], $15::float8[])
        AS rate(gateway, kind, currency, cost) ON rate.gateway = finished.gateway
      ON CONFLICT (id) DO NOTHING
    )`;

const SUCCESS_PRICED = successStatement(true);
const SUCCESS_UNPRICED = successStatement(false);

type SucceededRow = { readonly pool: TaskPool; readonly released: TaskPool[] };

/**
 * Records the success and returns the pools that may have gained claimable tasks; undefined,
 * having changed nothing, when the caller does not hold the task, the key was used before, a
 * waiting task also waits for an unfinished task, or the task records a range: the general
 * path then answers.
 */
export async function succeedOnPostgres(
  store: StateStore,
  call: SuccessCall,
): Promise<TaskPool[] | undefined> {
  const parameters: unknown[] = [
    call.taskId,
    call.idempotencyKey,
    call.nowMs,
    call.owner,
    call.epoch,
    call.completion,
    attemptIdOf(call.taskId, call.epoch),
    readyChannelOf(store),
  ];
  if (call.pricing !== undefined) parameters.push(...pricingParameters(call.pricing));
  const statement = call.pricing === undefined ? SUCCESS_UNPRICED : SUCCESS_PRICED;

  const query = CompiledQuery.raw(statement, parameters);
  const result = await store.db.executeQuery<SucceededRow>(query);
  const row = result.rows[0];
  return row === undefined ? undefined : distinctPools([...row.released, row.pool]);
}

/**
 * The usage, and the attempt's price on each gateway that has a rate, priced here by
 * `priceAttempt`; the statement picks the task's gateway. Kind and currency stay null where
 * the price is null, as in the general path.
 */
function pricingParameters({ usage, rates }: AttemptPricing): unknown[] {
  const gateways = [...rates.keys()];
  const costs = gateways.map((gateway) => priceAttempt(rates.get(gateway), usage));
  const ifPriced = (index: number, value: string | undefined) =>
    costs[index] === null ? null : (value ?? null);
  return [
    usage.durationMs,
    usage.bytesScanned ?? null,
    usage.rowsWritten ?? null,
    gateways,
    gateways.map((gateway, index) => ifPriced(index, rates.get(gateway)?.kind)),
    gateways.map((gateway, index) => ifPriced(index, rates.get(gateway)?.currency)),
    costs,
  ];
}
