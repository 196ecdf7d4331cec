import { CompiledQuery } from 'kysely';
import { PREPARED_MARK } from '../postgres/prepared-statements.js';
import { helloChanged, poolsText } from './claim-hello.js';
import type { ClaimRequest } from './claim-tasks.js';
import type { Db } from './task-rows.js';

/**
 * The claim without concurrency caps on PostgreSQL, as one statement: it picks the ready tasks
 * with `FOR UPDATE SKIP LOCKED`, leases them (owner, attempt and epoch raised by one, lease
 * expiry) and inserts their attempt rows. A single statement is atomic on its own, so it needs
 * no BEGIN and COMMIT around it: one round trip to the server instead of five. Its text is
 * fixed for a number of pools, and prepared once per connection (prepared-statements.ts).
 * Claims with caps count leased tasks under advisory locks first, and keep their transaction
 * (claim-tasks.ts).
 */

/** A task leased by the statement, with its definition still encrypted. */
export type LeasedRow = {
  readonly id: string;
  readonly attempt: number;
  readonly epoch: number;
  readonly definition: Buffer;
};

type ClaimedColumns = {
  is_hello_current: boolean;
  id: string | null;
  attempt: number;
  epoch: number;
  definition: Buffer;
};

/** The statement for each number of pools, made once. */
const statements = new Map<number, string>();

/**
 * Leases up to `maxTasks` ready tasks in priority order; an empty list when none is ready.
 * Throws `executor_unknown` when the claim names a hello that is no longer the current one.
 */
export async function claimInOneStatement(db: Db, request: ClaimRequest): Promise<LeasedRow[]> {
  const { owner, executorId, nowMs, pools, hello } = request;
  const parameters = [
    nowMs,
    request.maxTasks,
    owner,
    executorId,
    nowMs + request.leaseMs,
    hello === undefined ? null : poolsText(hello.pools),
    hello === undefined ? null : hello.slots,
    ...pools,
  ];
  const query = CompiledQuery.raw(claimStatement(pools.length), parameters);

  const result = await db.executeQuery<ClaimedColumns>(query);
  if (result.rows[0]?.is_hello_current !== true) throw helloChanged(request);
  return result.rows.flatMap(leasedRowOf);
}

/** The leased task of a row, none in the row that only tells about the hello. */
function leasedRowOf(row: ClaimedColumns): LeasedRow[] {
  if (row.id === null) return [];
  const { attempt, epoch, definition } = row;
  return [{ id: String(row.id), attempt: Number(attempt), epoch: Number(epoch), definition }];
}

/**
 * The claim of tasks in `poolCount` pools, whose names are the parameters from $8 on; $6 and $7
 * are the pools and slots of the hello the claim was checked against, or null. With no task
 * leased it still answers one row, its task columns null, so that it always tells whether the
 * hello was current.
 */
function claimStatement(poolCount: number): string {
  const known = statements.get(poolCount);
  if (known !== undefined) return known;

  const pools = Array.from({ length: poolCount }, (_, index) => `$${index + 8}::text`).join(', ');
  // The attempt id is attemptIdOf(task, epoch): '<task id>/<epoch>'.
  const statement = `${PREPARED_MARK}
    WITH hello AS (
      SELECT $6::text IS NULL OR EXISTS (
        SELECT 1 FROM sluice_executors
        WHERE id = $4::text AND client_id = $3::text AND pools = $6::text
          AND slots = $7::integer
      ) AS is_current
    ),
    candidates AS (
      SELECT id FROM sluice_tasks
      WHERE status = 'ready' AND pool IN (${pools}) AND ready_at_ms <= $1::bigint
        AND (SELECT is_current FROM hello)
      ORDER BY priority, ready_at_ms, id
      LIMIT $2::integer
      FOR UPDATE SKIP LOCKED
    ),
    leased AS (
      UPDATE sluice_tasks SET status = 'leased', owner = $3::text, executor_id = $4::text,
        attempt = sluice_tasks.attempt + 1, epoch = sluice_tasks.epoch + 1,
        lease_expires_at_ms = $5::bigint
      FROM candidates
      WHERE sluice_tasks.id = candidates.id AND sluice_tasks.status = 'ready'
      RETURNING sluice_tasks.id, sluice_tasks.attempt, sluice_tasks.epoch,
        sluice_tasks.definition, sluice_tasks.priority, sluice_tasks.ready_at_ms
    ),
    attempts AS (
      INSERT INTO sluice_task_attempts
        (id, task_id, epoch, attempt, owner, executor_id, claimed_at_ms)
      SELECT id || '/' || epoch, id, epoch, attempt, $3::text, $4::text, $1::bigint
      FROM leased
    )
    SELECT hello.is_current AS is_hello_current, leased.id, leased.attempt, leased.epoch,
      leased.definition
    FROM hello LEFT JOIN leased ON true
    ORDER BY leased.priority, leased.ready_at_ms, leased.id`;
  statements.set(poolCount, statement);
  return statement;
}
