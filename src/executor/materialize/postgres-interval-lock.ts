import type { EngineSession, QueryOptions } from '../../engines/engine-adapter.js';

/**
 * The lock a write transaction on PostgreSQL takes on its table and interval, held to its end,
 * so that two attempts of one task never write the same interval at once (write-context.ts says
 * why that matters). Only a stale attempt can hold it while another attempt starts: the queue
 * leases a task to one Executor at a time and a model's intervals to one run, so a holder is an
 * attempt whose lease has expired, such as one on an Executor that was paused or cut off. Waiting
 * for it could take as long as that Executor stays frozen, since its session keeps the lock while
 * its connection lives; so the new attempt ends the holder's session instead
 * (`pg_terminate_backend`, which rolls its transaction back), then takes the lock. Ending another
 * session needs the same role or membership of `pg_signal_backend`; without it the new attempt
 * waits for the holder's transaction to end by itself.
 */

/** Takes the lock of `key`, ending the sessions of stale attempts that hold it. */
export async function lockIntervalOnPostgres(
  session: EngineSession,
  key: string,
  options: QueryOptions,
): Promise<void> {
  const tried = await session.query(
    'SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0)) AS locked, ' +
      'hashtextextended($1, 0)::text AS lock_key',
    [key],
    options,
  );
  const row = tried.rows[0];
  if (row?.locked === true) return;

  const lockKey = BigInt(String(row?.lock_key));
  await session.execute(endHoldersStatement(lockKey), [], options);
  await session.query('SELECT pg_advisory_xact_lock($1::bigint)', [lockKey.toString()], options);
}

/**
 * A block that ends every other session holding the advisory lock `lockKey`. A one-key advisory
 * lock shows in pg_locks as `classid` (high 32 bits), `objid` (low 32 bits) and `objsubid` 1. The
 * key is a number, written into the text, since a DO block takes no parameters.
 */
function endHoldersStatement(lockKey: bigint): string {
  const unsigned = BigInt.asUintN(64, lockKey);
  const high = (unsigned >> 32n).toString();
  const low = (unsigned & 0xffffffffn).toString();
  return `DO $$
DECLARE holder integer;
BEGIN
  FOR holder IN
    SELECT pid FROM pg_locks
    WHERE locktype = 'advisory' AND granted AND objsubid = 1 AND pid <> pg_backend_pid()
      AND classid = ${high}::oid AND objid = ${low}::oid
  LOOP
    BEGIN
      PERFORM pg_terminate_backend(holder);
    EXCEPTION WHEN insufficient_privilege THEN
      RAISE NOTICE 'session % holds the interval and cannot be ended; waiting for it', holder;
    END;
  END LOOP;
END $$`;
}
