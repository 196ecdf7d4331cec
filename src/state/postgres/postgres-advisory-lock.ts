import type pg from 'pg';
import type { StateLocation } from '../state-types.js';
import type { AdvisoryLockHold } from '../store-internals.js';
import { createStatePool, unreachableState } from './postgres-pool.js';

/**
 * Named session advisory locks, each on a connection of its own (`pg_try_advisory_lock`): the
 * server frees the lock when the session ends, so a holder that dies or loses its connection
 * loses the lock with it, and another session can take it at once.
 *
 * Each attempt opens a connection and closes it when the lock is taken by another, so a caller
 * that retries every few seconds (a Scheduler replica that does not lead) opens a connection as
 * often; keeping the losing connection for the next attempt would avoid that.
 */

type PostgresLocation = Extract<StateLocation, { backend: 'postgres' }>;

/**
 * The first half of every named lock's key, fixed for Sluice and apart from the migration lock's;
 * the second half hashes the store's schema and the name, so stores in different schemas of one
 * database never contend.
 */
const NAMED_LOCK_CLASS = 0x51_c3_00_02;

/** How long the lock's connection may take to answer a liveness check before it counts as lost. */
const ALIVE_CHECK_TIMEOUT_MS = 5_000;

/** Takes the lock without waiting; undefined when another session holds it. */
export async function tryPostgresAdvisoryLock(
  location: PostgresLocation,
  name: string,
): Promise<AdvisoryLockHold | undefined> {
  const session = await openSession(location);
  const lockKey = [NAMED_LOCK_CLASS, `${location.schema}/${name}`];

  let isTaken: boolean;
  try {
    const result = await session.client.query<{ taken: boolean }>(
      'SELECT pg_try_advisory_lock($1, hashtext($2)) AS taken',
      lockKey,
    );
    isTaken = result.rows[0]?.taken === true;
  } catch (error) {
    await session.close();
    throw unreachableState(error, location);
  }
  if (!isTaken) {
    await session.close();
    return undefined;
  }

  return {
    lost: session.lost,
    isAlive: async () => {
      const isAlive = await answersWithin(session.client, ALIVE_CHECK_TIMEOUT_MS);
      if (!isAlive) await session.close();
      return isAlive;
    },
    release: async () => {
      const unlock = 'SELECT pg_advisory_unlock($1, hashtext($2))';
      await session.client.query(unlock, lockKey).catch(() => undefined);
      await session.close();
    },
  };
}

/** A connection of its own; `lost` resolves once it breaks or is closed. */
type LockSession = {
  readonly client: pg.PoolClient;
  readonly lost: Promise<void>;
  close(): Promise<void>;
};

async function openSession(location: PostgresLocation): Promise<LockSession> {
  const pool = createStatePool(location, 1);
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw unreachableState(error, location);
  }

  let signalLost = (): void => undefined;
  const lost = new Promise<void>((resolve) => {
    signalLost = resolve;
  });
  const close = onceOnly(async () => {
    signalLost();
    client.release(true);
    await pool.end().catch(() => undefined);
  });
  // Without a listener, a connection that breaks would raise an uncaught 'error' event.
  client.on('error', () => void close());
  client.on('end', () => void close());
  return { client, lost, close };
}

/** Whether the connection answers a trivial query in time. */
async function answersWithin(client: pg.PoolClient, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  const answered = client.query('SELECT 1').then(
    () => true,
    () => false,
  );
  try {
    return await Promise.race([answered, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

function onceOnly(work: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () => {
    done ??= work();
    return done;
  };
}
