import { SluiceError } from '../core/errors.js';
import { type AuditEntryInput, appendAuditEntryIn } from './audit-log.js';
import type { StateStore } from './state-store.js';
import { internalsOf } from './store-internals.js';

/**
 * Environments in the state store: which snapshot each model of an environment points at, what it
 * pointed at before, and a revision that every promotion bumps. Promotion checks the revision the
 * plan was made against inside the write transaction (the row locked on PostgreSQL), so a plan
 * made against an environment that changed since is refused.
 */

const ENVIRONMENTS_TABLE = 'sluice_environments';

/** An environment as stored. */
export type EnvironmentRecord = {
  readonly name: string;
  /** 0 for an environment that does not exist yet; each promotion adds one. */
  readonly revision: number;
  /** Snapshot id by model name. */
  readonly snapshotIds: Readonly<Record<string, string>>;
  /** What the environment pointed at before its last promotion, for rollback. */
  readonly previousSnapshotIds: Readonly<Record<string, string>> | undefined;
  readonly planId: string | undefined;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly lastUsedAt: string;
  /** When it expires unless used again; undefined for one that never expires (prod). */
  readonly expiresAt: string | undefined;
};

/** A promotion: the environment's new contents, and the revision the plan was made against. */
export type Promotion = {
  readonly name: string;
  readonly baseRevision: number;
  readonly snapshotIds: Readonly<Record<string, string>>;
  /** What to keep for rollback; by default what the environment held before. */
  readonly previousSnapshotIds?: Readonly<Record<string, string>>;
  readonly planId: string | undefined;
  /** How long the environment lives without use; undefined: it never expires. */
  readonly ttlMs: number | undefined;
  readonly now: Date;
  /** The audit entry recording the promotion, given its new revision; same transaction. */
  readonly audit?: (revision: number) => AuditEntryInput;
};

/** The environment, or undefined when it does not exist. */
export async function readEnvironment(
  store: StateStore,
  name: string,
): Promise<EnvironmentRecord | undefined> {
  const row = await store.db
    .selectFrom(ENVIRONMENTS_TABLE)
    .selectAll()
    .where('name', '=', name)
    .executeTakeFirst();
  return row === undefined ? undefined : recordOf(row);
}

/** Every environment, by name. */
export async function listEnvironments(store: StateStore): Promise<EnvironmentRecord[]> {
  const rows = await store.db.selectFrom(ENVIRONMENTS_TABLE).selectAll().orderBy('name').execute();
  return rows.map(recordOf);
}

/**
 * Records a promotion if the environment is still at the plan's base revision; returns the new
 * revision. Otherwise nothing is written and the error says what changed and to plan again.
 */
export async function recordPromotion(store: StateStore, promotion: Promotion): Promise<number> {
  return internalsOf(store).writeTransaction(async (db) => {
    const current = await db
      .selectFrom(ENVIRONMENTS_TABLE)
      .selectAll()
      .where('name', '=', promotion.name)
      .$if(store.backend === 'postgres', (query) => query.forUpdate())
      .executeTakeFirst();
    const currentRevision = current === undefined ? 0 : Number(current.revision);
    if (currentRevision !== promotion.baseRevision) {
      throw staleError(promotion, currentRevision, current?.plan_id);
    }

    const now = promotion.now.toISOString();
    const values = {
      revision: currentRevision + 1,
      snapshot_ids: JSON.stringify(promotion.snapshotIds),
      previous_snapshot_ids: JSON.stringify(
        promotion.previousSnapshotIds ?? parseIds(current?.snapshot_ids) ?? {},
      ),
      plan_id: promotion.planId ?? null,
      updated_at: now,
      last_used_at: now,
      expires_at: expiryOf(promotion.now, promotion.ttlMs),
    };
    if (current === undefined) {
      await db
        .insertInto(ENVIRONMENTS_TABLE)
        .values({ name: promotion.name, created_at: now, ...values, previous_snapshot_ids: null })
        .execute();
    } else {
      await db
        .updateTable(ENVIRONMENTS_TABLE)
        .set(values)
        .where('name', '=', promotion.name)
        .execute();
    }
    if (promotion.audit !== undefined) {
      await appendAuditEntryIn(store, db, promotion.audit(currentRevision + 1));
    }
    return currentRevision + 1;
  });
}

/** Marks an environment used now, which pushes its expiry back. */
export async function touchEnvironment(
  store: StateStore,
  name: string,
  ttlMs: number | undefined,
  now: Date = new Date(),
): Promise<void> {
  await store.db
    .updateTable(ENVIRONMENTS_TABLE)
    .set({ last_used_at: now.toISOString(), expires_at: expiryOf(now, ttlMs) })
    .where('name', '=', name)
    .execute();
}

/** Makes an environment expire now; the janitor removes its views. */
export async function expireEnvironment(
  store: StateStore,
  name: string,
  now: Date = new Date(),
): Promise<boolean> {
  const result = await store.db
    .updateTable(ENVIRONMENTS_TABLE)
    .set({ expires_at: now.toISOString() })
    .where('name', '=', name)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Whether the environment has expired at `now`. */
export function isExpired(
  environment: Pick<EnvironmentRecord, 'expiresAt'>,
  now: Date = new Date(),
): boolean {
  return environment.expiresAt !== undefined && Date.parse(environment.expiresAt) <= now.getTime();
}

function staleError(promotion: Promotion, revision: number, planId: unknown): SluiceError {
  const by = typeof planId === 'string' ? ` by plan ${planId}` : '';
  const what =
    promotion.baseRevision === 0
      ? `was created${by} after this plan was made`
      : `moved from revision ${promotion.baseRevision} to ${revision}${by} ` +
        'after this plan was made';
  return new SluiceError(
    'plan_stale',
    `Environment '${promotion.name}' ${what}, so the plan no longer applies; run ` +
      `'sluice plan ${promotion.name}' again`,
  );
}

function expiryOf(now: Date, ttlMs: number | undefined): string | null {
  return ttlMs === undefined ? null : new Date(now.getTime() + ttlMs).toISOString();
}

function recordOf(row: Record<string, unknown>): EnvironmentRecord {
  return {
    name: String(row.name),
    revision: Number(row.revision),
    snapshotIds: parseIds(row.snapshot_ids) ?? {},
    previousSnapshotIds: parseIds(row.previous_snapshot_ids),
    planId: optionalText(row.plan_id),
    createdAt: String(row.created_at),
    updatedAt: String(row.updated_at),
    lastUsedAt: String(row.last_used_at),
    expiresAt: optionalText(row.expires_at),
  };
}

function parseIds(value: unknown): Record<string, string> | undefined {
  if (value === null || value === undefined) return undefined;
  return JSON.parse(String(value)) as Record<string, string>;
}

function optionalText(value: unknown): string | undefined {
  return value === null || value === undefined ? undefined : String(value);
}

/** The project, gateway and engine an environment's last applied plan ran on. */
export type EnvironmentTarget = {
  readonly projectName: string;
  readonly gateway: string;
  readonly engine: 'duckdb' | 'postgres';
};

/** Records where the environment's work runs, after a plan made through the API was applied. */
export async function setEnvironmentTarget(
  store: StateStore,
  name: string,
  target: EnvironmentTarget,
): Promise<void> {
  await store.db
    .updateTable(ENVIRONMENTS_TABLE)
    .set({ project_name: target.projectName, gateway: target.gateway, engine: target.engine })
    .where('name', '=', name)
    .execute();
}

/** Where the environment's work runs; undefined when no plan made through the API set it. */
export async function readEnvironmentTarget(
  store: StateStore,
  name: string,
): Promise<EnvironmentTarget | undefined> {
  const row = await store.db
    .selectFrom(ENVIRONMENTS_TABLE)
    .select(['project_name', 'gateway', 'engine'])
    .where('name', '=', name)
    .executeTakeFirst();
  if (row === undefined || row.project_name === null || row.gateway === null) return undefined;
  return {
    projectName: String(row.project_name),
    gateway: String(row.gateway),
    engine: row.engine === 'postgres' ? 'postgres' : 'duckdb',
  };
}
