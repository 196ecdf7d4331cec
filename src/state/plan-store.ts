import { SluiceError } from '../core/errors.js';
import type { Plan } from '../core/plan.js';
import type { StateStore } from './state-store.js';
import type { PayloadAddress } from './state-types.js';

/** Plans in the state store: their contents encrypted, their status plain. */

const PLANS_TABLE = 'sluice_plans';

/** Where a plan is in its life. */
export type PlanStatus = 'planned' | 'applying' | 'applied' | 'failed';

/** A stored plan with its status. */
export type StoredPlan = {
  readonly plan: Plan;
  readonly status: PlanStatus;
  readonly finishedAt: string | undefined;
};

/** Stores a new plan as planned. */
export async function savePlan(store: StateStore, plan: Plan): Promise<void> {
  await store.db
    .insertInto(PLANS_TABLE)
    .values({
      id: plan.id,
      environment: plan.environment,
      base_revision: plan.baseRevision,
      status: 'planned',
      created_at: plan.createdAt,
      finished_at: null,
      contents: store.cipher.encrypt(JSON.stringify(plan), addressOf(plan.id)),
    })
    .execute();
}

/** The stored plan with this id; an unknown id is an error that says how to list plans. */
export async function readPlan(store: StateStore, id: string): Promise<StoredPlan> {
  const row = await store.db
    .selectFrom(PLANS_TABLE)
    .select(['id', 'status', 'finished_at', 'contents'])
    .where('id', '=', id)
    .executeTakeFirst();
  if (row === undefined) {
    throw new SluiceError(
      'plan_not_found',
      `No plan '${id}' in the state store; 'sluice plan ENV' makes one and prints its id`,
    );
  }
  const text = store.cipher.decryptText(row.contents as Buffer, addressOf(id));
  return {
    plan: JSON.parse(text) as Plan,
    status: String(row.status) as PlanStatus,
    finishedAt: row.finished_at === null ? undefined : String(row.finished_at),
  };
}

/** Moves a plan to a new status; a finished status records when. */
export async function setPlanStatus(
  store: StateStore,
  id: string,
  status: PlanStatus,
  now: Date = new Date(),
): Promise<void> {
  const isFinished = status === 'applied' || status === 'failed';
  await store.db
    .updateTable(PLANS_TABLE)
    .set({ status, finished_at: isFinished ? now.toISOString() : null })
    .where('id', '=', id)
    .execute();
}

function addressOf(id: string): PayloadAddress {
  return { table: PLANS_TABLE, column: 'contents', rowId: id };
}
