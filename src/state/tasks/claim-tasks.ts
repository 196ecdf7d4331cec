import { sql } from 'kysely';
import { SluiceError } from '../../core/errors.js';
import type { TaskPool } from '../../core/task-pool.js';
import type { StateStore } from '../state-store.js';
import { internalsOf } from '../store-internals.js';
import { type HelloSeen, requireCurrentHello } from './claim-hello.js';
import { claimInOneStatement, type LeasedRow } from './postgres-claim.js';
import {
  ATTEMPTS_TABLE,
  attemptIdOf,
  type Db,
  definitionAddress,
  isPostgres,
  TASKS_TABLE,
} from './task-rows.js';

/**
 * The atomic claim: ready tasks of the caller's pools, highest priority first, each leased to
 * the caller with its attempt and fencing epoch raised by one, in one transaction. On PostgreSQL
 * the candidate rows are locked with `FOR UPDATE SKIP LOCKED`, so concurrent claims take
 * different tasks without waiting for each other (without caps, in a single statement:
 * postgres-claim.ts); on SQLite the write transaction serialises claims. Concurrency caps per
 * gateway and per model are counted inside the transaction, under an advisory lock per capped
 * gateway or model on PostgreSQL, so two claims cannot both take the last free slot.
 */

/** How many tasks may be leased at once, per gateway and per model; absent means no cap. */
export type ConcurrencyCaps = {
  /** Caps for named gateways. */
  readonly perGateway?: Readonly<Record<string, number>>;
  /** The cap for gateways not named in `perGateway`. */
  readonly defaultPerGateway?: number;
  /** The cap for each model. */
  readonly perModel?: number;
};

/** One claim by one Executor. */
export type ClaimRequest = {
  /** The client the token was issued to; every later call on the task must come from it. */
  readonly owner: string;
  readonly executorId: string;
  readonly pools: readonly TaskPool[];
  /** The Executor's free slots. */
  readonly maxTasks: number;
  readonly nowMs: number;
  readonly leaseMs: number;
  readonly caps?: ConcurrencyCaps;
  /**
   * The Executor's hello the claim was checked against: when given, the claim leases tasks only
   * while it is still the current one, and throws `executor_unknown` otherwise.
   */
  readonly hello?: HelloSeen;
};

/** A task as handed to an Executor, with its lease; the definition is as it was queued. */
export type ClaimedTask = {
  readonly id: string;
  readonly definition: unknown;
  readonly attempt: number;
  readonly epoch: number;
  readonly leaseExpiresAtMs: number;
};

type Candidate = { readonly id: string; readonly gateway: string; readonly model: string | null };

/** The first half of the advisory lock keys of concurrency caps. */
const CAP_LOCK_CLASS = 0x51_c3_00_02;

/** With caps, a claim looks at this many more candidates than it wants, to pass over full ones. */
const CAPPED_LOOKAHEAD = 32;

/** Claims up to `maxTasks` ready tasks; an empty list when none is ready. */
export async function claimTasks(store: StateStore, request: ClaimRequest): Promise<ClaimedTask[]> {
  checkRequest(request);
  const leased =
    isPostgres(store) && !hasCaps(request.caps)
      ? await claimInOneStatement(store.db, request)
      : await claimInTransaction(store, request);

  const leaseExpiresAtMs = request.nowMs + request.leaseMs;
  return leased.map((row) => ({
    id: row.id,
    definition: JSON.parse(store.cipher.decryptText(row.definition, definitionAddress(row.id))),
    attempt: row.attempt,
    epoch: row.epoch,
    leaseExpiresAtMs,
  }));
}

/** The claim as one write transaction: with caps, and on SQLite. */
function claimInTransaction(store: StateStore, request: ClaimRequest): Promise<LeasedRow[]> {
  return internalsOf(store).writeTransaction(async (db) => {
    const { hello } = request;
    if (hello !== undefined) await requireCurrentHello(db, { ...request, hello });

    const candidates = await selectCandidates(store, db, request);
    if (candidates.length === 0) return [];
    const chosen = hasCaps(request.caps)
      ? await withinCaps(store, db, candidates, request)
      : candidates.slice(0, request.maxTasks);
    if (chosen.length === 0) return [];
    return leaseTasks(db, chosen, request);
  });
}

function checkRequest(request: ClaimRequest): void {
  if (!Number.isSafeInteger(request.maxTasks) || request.maxTasks < 1) {
    throw new SluiceError('internal', `A claim must ask for at least one task`);
  }
  if (request.pools.length === 0) {
    throw new SluiceError('internal', 'A claim must name at least one pool');
  }
}

async function selectCandidates(
  store: StateStore,
  db: Db,
  request: ClaimRequest,
): Promise<Candidate[]> {
  const limit = hasCaps(request.caps) ? request.maxTasks + CAPPED_LOOKAHEAD : request.maxTasks;
  const query = db
    .selectFrom(TASKS_TABLE)
    .select(['id', 'gateway', 'model_name'])
    .where('status', '=', 'ready')
    .where('pool', 'in', [...request.pools])
    .where('ready_at_ms', '<=', request.nowMs)
    .orderBy('priority')
    .orderBy('ready_at_ms')
    .orderBy('id')
    .limit(limit);
  const rows = await (isPostgres(store) ? query.forUpdate().skipLocked() : query).execute();
  return rows.map((row) => ({
    id: String(row.id),
    gateway: String(row.gateway),
    model: row.model_name === null ? null : String(row.model_name),
  }));
}

function hasCaps(caps: ConcurrencyCaps | undefined): caps is ConcurrencyCaps {
  if (caps === undefined) return false;
  return (
    caps.perModel !== undefined ||
    caps.defaultPerGateway !== undefined ||
    Object.keys(caps.perGateway ?? {}).length > 0
  );
}

function gatewayCap(caps: ConcurrencyCaps, gateway: string): number | undefined {
  return caps.perGateway?.[gateway] ?? caps.defaultPerGateway;
}

/** The candidates, in order, that fit under the caps with the tasks already leased. */
async function withinCaps(
  store: StateStore,
  db: Db,
  candidates: readonly Candidate[],
  request: ClaimRequest,
): Promise<Candidate[]> {
  const caps = request.caps ?? {};
  const gateways = [...new Set(candidates.map((candidate) => candidate.gateway))].filter(
    (gateway) => gatewayCap(caps, gateway) !== undefined,
  );
  const models =
    caps.perModel === undefined
      ? []
      : [...new Set(candidates.flatMap((candidate) => candidate.model ?? []))];
  if (isPostgres(store)) await lockScopes(db, gateways, models);

  const leasedPerGateway = await countLeased(db, 'gateway', gateways);
  const leasedPerModel = await countLeased(db, 'model_name', models);
  const chosen: Candidate[] = [];
  for (const candidate of candidates) {
    if (chosen.length === request.maxTasks) break;
    const gatewayLimit = gatewayCap(caps, candidate.gateway);
    const onGateway = leasedPerGateway.get(candidate.gateway) ?? 0;
    if (gatewayLimit !== undefined && onGateway >= gatewayLimit) continue;
    const onModel = candidate.model === null ? 0 : (leasedPerModel.get(candidate.model) ?? 0);
    if (candidate.model !== null && caps.perModel !== undefined && onModel >= caps.perModel) {
      continue;
    }
    chosen.push(candidate);
    leasedPerGateway.set(candidate.gateway, onGateway + 1);
    if (candidate.model !== null) leasedPerModel.set(candidate.model, onModel + 1);
  }
  return chosen;
}

/** Takes the cap locks in one fixed order, so that two claims never wait for each other. */
async function lockScopes(
  db: Db,
  gateways: readonly string[],
  models: readonly string[],
): Promise<void> {
  const keys = [
    ...gateways.map((gateway) => `gateway:${gateway}`),
    ...models.map((model) => `model:${model}`),
  ].sort();
  for (const key of keys) {
    const lockKey = sql`hashtext(current_schema() || ${key})`;
    await sql`SELECT pg_advisory_xact_lock(${CAP_LOCK_CLASS}, ${lockKey})`.execute(db);
  }
}

async function countLeased(
  db: Db,
  column: 'gateway' | 'model_name',
  values: readonly string[],
): Promise<Map<string, number>> {
  if (values.length === 0) return new Map();
  const rows = await db
    .selectFrom(TASKS_TABLE)
    .select((select) => [column, select.fn.countAll().as('leased')])
    .where('status', '=', 'leased')
    .where(column, 'in', [...values])
    .groupBy(column)
    .execute();
  return new Map(rows.map((row) => [String(row[column]), Number(row.leased)]));
}

async function leaseTasks(
  db: Db,
  chosen: readonly Candidate[],
  request: ClaimRequest,
): Promise<LeasedRow[]> {
  const rows = await db
    .updateTable(TASKS_TABLE)
    .set((set) => ({
      status: 'leased',
      owner: request.owner,
      executor_id: request.executorId,
      attempt: sql`${set.ref('attempt')} + 1`,
      epoch: sql`${set.ref('epoch')} + 1`,
      lease_expires_at_ms: request.nowMs + request.leaseMs,
    }))
    .where(
      'id',
      'in',
      chosen.map((candidate) => candidate.id),
    )
    .where('status', '=', 'ready')
    .returning(['id', 'attempt', 'epoch', 'definition'])
    .execute();

  const leased = rows.map((row) => ({
    id: String(row.id),
    attempt: Number(row.attempt),
    epoch: Number(row.epoch),
    definition: row.definition as Buffer,
  }));
  if (leased.length === 0) return [];
  await db
    .insertInto(ATTEMPTS_TABLE)
    .values(
      leased.map((row) => ({
        id: attemptIdOf(row.id, row.epoch),
        task_id: row.id,
        epoch: row.epoch,
        attempt: row.attempt,
        owner: request.owner,
        executor_id: request.executorId,
        claimed_at_ms: request.nowMs,
        ended_at_ms: null,
        ended_as: null,
        completion_key: null,
        completion: null,
      })),
    )
    .execute();
  return orderAsChosen(leased, chosen);
}

/** RETURNING gives no order; the Executor gets the tasks in priority order. */
function orderAsChosen<T extends { readonly id: string }>(
  rows: readonly T[],
  chosen: readonly Candidate[],
): T[] {
  const position = new Map(chosen.map((candidate, index) => [candidate.id, index]));
  return [...rows].sort((a, b) => (position.get(a.id) ?? 0) - (position.get(b.id) ?? 0));
}
