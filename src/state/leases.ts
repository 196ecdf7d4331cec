import type { StateStore } from './state-store.js';

/**
 * Leases: a named lock held by one owner until it expires, kept in the state store so that every
 * process sharing the store sees it. An owner renews its lease while it works; a lease whose owner
 * died simply expires and can then be taken.
 */

const LEASES_TABLE = 'sluice_leases';

/** Who holds a lease and until when. */
export type LeaseHolder = { readonly owner: string; readonly expiresAtMs: number };

/** What taking a lease needs. */
export type LeaseRequest = {
  readonly key: string;
  readonly owner: string;
  readonly ttlMs: number;
  readonly nowMs: number;
};

/**
 * Takes the lease when it is free, expired, already ours, or held by `staleOwner` (an owner the
 * caller knows is dead); returns whether it is now ours. Each statement is atomic, so of two
 * processes racing for a free lease exactly one wins.
 */
export async function tryAcquireLease(
  store: StateStore,
  request: LeaseRequest,
  staleOwner?: string,
): Promise<boolean> {
  const expiresAtMs = request.nowMs + request.ttlMs;
  const inserted = await store.db
    .insertInto(LEASES_TABLE)
    .values({ key: request.key, owner: request.owner, expires_at_ms: expiresAtMs })
    .onConflict((conflict) => conflict.column('key').doNothing())
    .executeTakeFirst();
  if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) > 0) return true;

  const updated = await store.db
    .updateTable(LEASES_TABLE)
    .set({ owner: request.owner, expires_at_ms: expiresAtMs })
    .where('key', '=', request.key)
    .where((where) =>
      where.or([
        where('owner', '=', request.owner),
        where('expires_at_ms', '<', request.nowMs),
        ...(staleOwner === undefined ? [] : [where('owner', '=', staleOwner)]),
      ]),
    )
    .executeTakeFirst();
  return Number(updated.numUpdatedRows) > 0;
}

/** Extends a lease we hold; false when it is no longer ours (it expired and was taken). */
export async function renewLease(store: StateStore, request: LeaseRequest): Promise<boolean> {
  const updated = await store.db
    .updateTable(LEASES_TABLE)
    .set({ expires_at_ms: request.nowMs + request.ttlMs })
    .where('key', '=', request.key)
    .where('owner', '=', request.owner)
    .executeTakeFirst();
  return Number(updated.numUpdatedRows) > 0;
}

/** Gives a lease up; does nothing when it is not ours. */
export async function releaseLease(store: StateStore, key: string, owner: string): Promise<void> {
  await store.db
    .deleteFrom(LEASES_TABLE)
    .where('key', '=', key)
    .where('owner', '=', owner)
    .execute();
}

/** The current holder of a lease, expired or not, or undefined when nobody holds it. */
export async function readLease(store: StateStore, key: string): Promise<LeaseHolder | undefined> {
  const row = await store.db
    .selectFrom(LEASES_TABLE)
    .select(['owner', 'expires_at_ms'])
    .where('key', '=', key)
    .executeTakeFirst();
  if (row === undefined) return undefined;
  return { owner: String(row.owner), expiresAtMs: Number(row.expires_at_ms) };
}
