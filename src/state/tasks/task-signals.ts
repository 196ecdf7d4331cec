import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import { TASK_POOLS, type TaskPool } from '../../core/task-pool.js';
import type { StateStore } from '../state-store.js';
import { internalsOf } from '../store-internals.js';
import { type Db, distinctPools } from './task-rows.js';

/**
 * Wake-ups for claims that wait: whenever a write may have made a task claimable (enqueued,
 * unblocked, released, retried, reaped, or a concurrency slot freed), the pools concerned are
 * signalled. In process the signal is immediate; on PostgreSQL it is also sent with NOTIFY inside
 * the writing transaction, so that it reaches other Schedulers on the database once it commits.
 */

/** Called with the pools that may have gained claimable tasks. */
export type ReadyListener = (pools: readonly TaskPool[]) => void;

/** A way to stop listening. */
export type ReadySubscription = { close(): Promise<void> };

const listeners = new WeakMap<StateStore, Set<ReadyListener>>();

/** Sends NOTIFY for `pools` inside the transaction `db`, on PostgreSQL; nothing on SQLite. */
export async function notifyInTransaction(
  store: StateStore,
  db: Db,
  pools: readonly TaskPool[],
): Promise<void> {
  if (store.location.backend !== 'postgres' || pools.length === 0) return;
  const channel = readyChannelOf(store);
  await sql`SELECT pg_notify(${channel}, ${pools.join(',')})`.execute(db);
}

/** Tells this process's listeners that `pools` may have gained claimable tasks. */
export function signalInProcess(store: StateStore, pools: readonly TaskPool[]): void {
  if (pools.length === 0) return;
  for (const listener of listeners.get(store) ?? []) listener(pools);
}

/**
 * Listens for ready tasks: in process always, and on PostgreSQL through LISTEN as well, so that
 * tasks made ready by another Scheduler wake this one's claims. After the LISTEN connection had
 * to be opened again, every pool is signalled, since notifications may have been missed.
 */
export async function listenForReadyTasks(
  store: StateStore,
  listener: ReadyListener,
): Promise<ReadySubscription> {
  let set = listeners.get(store);
  if (set === undefined) {
    set = new Set();
    listeners.set(store, set);
  }
  set.add(listener);

  const listen = internalsOf(store).listen;
  const remote =
    listen === undefined
      ? undefined
      : await listen(readyChannelOf(store), {
          onMessage: (payload) => listener(poolsIn(payload)),
          onReconnect: () => listener(TASK_POOLS),
        }).catch((error: unknown) => {
          set.delete(listener);
          throw error;
        });

  return {
    close: async () => {
      set.delete(listener);
      await remote?.close();
    },
  };
}

const channels = new WeakMap<StateStore, string>();

/** The NOTIFY channel of one store: a fixed prefix and a hash of its schema. */
export function readyChannelOf(store: StateStore): string {
  const known = channels.get(store);
  if (known !== undefined) return known;

  const { location } = store;
  const schema = location.backend === 'postgres' ? location.schema : location.path;
  const channel = `sluice_tasks_${createHash('sha256').update(schema).digest('hex').slice(0, 16)}`;
  channels.set(store, channel);
  return channel;
}

function poolsIn(payload: string): TaskPool[] {
  return distinctPools(
    payload
      .split(',')
      .filter((pool): pool is TaskPool => (TASK_POOLS as readonly string[]).includes(pool)),
  );
}
