import { SluiceError } from '../../core/errors.js';
import type { TaskPool } from '../../core/task-pool.js';
import type { Db } from './task-rows.js';
import { EXECUTORS_TABLE } from './task-rows.js';

/**
 * The Executor's hello that a claim was checked against (that it came from the claim's client,
 * with the pools and slots the claim was validated with). A claim that names it leases tasks
 * only while that hello is still the Executor's current one, checked in the claim's own
 * statement or transaction, so that the caller may check claims against a hello it read
 * earlier instead of reading it again for every claim.
 */

/** The hello a claim was checked against; its client is the claim's owner. */
export type HelloSeen = { readonly pools: readonly TaskPool[]; readonly slots: number };

/** The pools as `sluice_executors.pools` stores them. */
export function poolsText(pools: readonly TaskPool[]): string {
  return pools.join(',');
}

/** Throws `executor_unknown` unless the Executor's hello is still `hello`, from `owner`. */
export async function requireCurrentHello(
  db: Db,
  request: { readonly owner: string; readonly executorId: string; readonly hello: HelloSeen },
): Promise<void> {
  const row = await db
    .selectFrom(EXECUTORS_TABLE)
    .select('id')
    .where('id', '=', request.executorId)
    .where('client_id', '=', request.owner)
    .where('pools', '=', poolsText(request.hello.pools))
    .where('slots', '=', request.hello.slots)
    .executeTakeFirst();
  if (row === undefined) throw helloChanged(request);
}

/** The error of a claim whose hello is no longer the Executor's current one. */
export function helloChanged(request: {
  readonly owner: string;
  readonly executorId: string;
}): SluiceError {
  return new SluiceError(
    'executor_unknown',
    `Executor '${request.executorId}' has not said hello as client '${request.owner}' with the ` +
      'pools and slots this claim was checked against; call POST /v1/executors/hello, then claim',
  );
}
