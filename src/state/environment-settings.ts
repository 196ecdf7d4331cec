import type { Kysely } from 'kysely';
import { PROD } from '../core/environments.js';
import { type AuditEntryInput, appendAuditEntryIn } from './audit-log.js';
import type { StateDatabase, StateStore } from './state-store.js';
import { internalsOf } from './store-internals.js';

/**
 * Per-environment settings of the cadence: whether a development environment takes part in it
 * (prod always does), whether the environment is paused, and which of its models are paused.
 * An environment without a row has the defaults: in the cadence only if it is prod, not paused.
 * Every change is written with its audit entry in one transaction; a write that changes nothing
 * writes no entry.
 */

const SETTINGS_TABLE = 'sluice_environment_settings';
const PAUSED_MODELS_TABLE = 'sluice_paused_models';

/** An environment's settings, stored or default. */
export type EnvironmentSettings = {
  readonly environment: string;
  readonly isCadence: boolean;
  readonly isPaused: boolean;
};

/** A model paused in an environment, with who paused it and when. */
export type PausedModel = {
  readonly environment: string;
  readonly modelName: string;
  readonly pausedAtMs: number;
  readonly pausedBy: string;
};

/** Who changes a setting, and when. */
export type SettingsActor = { readonly actor: string; readonly nowMs: number };

type Db = Kysely<StateDatabase>;

/** The settings of one environment; the defaults when none were ever written. */
export async function readEnvironmentSettings(
  store: StateStore,
  environment: string,
): Promise<EnvironmentSettings> {
  return readSettingsIn(store.db, environment);
}

/** The stored settings of every environment that has any, by environment name. */
export async function listEnvironmentSettings(
  store: StateStore,
): Promise<Map<string, EnvironmentSettings>> {
  const rows = await store.db.selectFrom(SETTINGS_TABLE).selectAll().execute();
  const settings = rows.map((row) => settingsOf(String(row.environment), row));
  return new Map(settings.map((each) => [each.environment, each]));
}

/** The settings an environment has without a stored row. */
export function defaultSettingsOf(environment: string): EnvironmentSettings {
  return { environment, isCadence: environment === PROD, isPaused: false };
}

/** Sets whether the environment takes part in the cadence; returns whether it changed. */
export function setEnvironmentCadence(
  store: StateStore,
  environment: string,
  isCadence: boolean,
  by: SettingsActor,
): Promise<boolean> {
  return changeSettings(store, environment, { isCadence }, by, {
    action: isCadence ? 'environment.cadence_enabled' : 'environment.cadence_disabled',
    details: {},
  });
}

/** Pauses or resumes the environment as a whole; returns whether it changed. */
export function setEnvironmentPaused(
  store: StateStore,
  environment: string,
  isPaused: boolean,
  by: SettingsActor,
): Promise<boolean> {
  return changeSettings(store, environment, { isPaused }, by, {
    action: isPaused ? 'environment.paused' : 'environment.resumed',
    details: {},
  });
}

/** Pauses one model of the environment; returns false when it was paused already. */
export function pauseModel(
  store: StateStore,
  environment: string,
  modelName: string,
  by: SettingsActor,
): Promise<boolean> {
  return internalsOf(store).writeTransaction(async (db) => {
    const inserted = await db
      .insertInto(PAUSED_MODELS_TABLE)
      .values({
        id: pausedModelId(environment, modelName),
        environment,
        model_name: modelName,
        paused_at_ms: by.nowMs,
        paused_by: by.actor,
      })
      .onConflict((conflict) => conflict.column('id').doNothing())
      .executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) === 0) return false;

    await appendAuditEntryIn(store, db, modelAudit('model.paused', environment, modelName, by));
    return true;
  });
}

/** Resumes one model of the environment; returns false when it was not paused. */
export function resumeModel(
  store: StateStore,
  environment: string,
  modelName: string,
  by: SettingsActor,
): Promise<boolean> {
  return internalsOf(store).writeTransaction(async (db) => {
    const deleted = await db
      .deleteFrom(PAUSED_MODELS_TABLE)
      .where('id', '=', pausedModelId(environment, modelName))
      .executeTakeFirst();
    if (Number(deleted.numDeletedRows) === 0) return false;

    await appendAuditEntryIn(store, db, modelAudit('model.resumed', environment, modelName, by));
    return true;
  });
}

/** The models paused in the environment (in every environment without one), by name. */
export async function listPausedModels(
  store: StateStore,
  environment?: string,
): Promise<PausedModel[]> {
  const rows = await store.db
    .selectFrom(PAUSED_MODELS_TABLE)
    .selectAll()
    .$if(environment !== undefined, (query) => query.where('environment', '=', environment))
    .orderBy('environment')
    .orderBy('model_name')
    .execute();
  return rows.map((row) => ({
    environment: String(row.environment),
    modelName: String(row.model_name),
    pausedAtMs: Number(row.paused_at_ms),
    pausedBy: String(row.paused_by),
  }));
}

type SettingsChange = { readonly isCadence?: boolean; readonly isPaused?: boolean };

/** Writes the changed flags (creating the row with the defaults), and its audit entry. */
function changeSettings(
  store: StateStore,
  environment: string,
  change: SettingsChange,
  by: SettingsActor,
  audit: Pick<AuditEntryInput, 'action' | 'details'>,
): Promise<boolean> {
  return internalsOf(store).writeTransaction(async (db) => {
    const current = await readSettingsIn(db, environment);
    // prod takes part in the cadence whatever is asked: turning it off changes nothing.
    const next = {
      ...current,
      ...change,
      isCadence: environment === PROD || (change.isCadence ?? current.isCadence),
    };
    if (next.isCadence === current.isCadence && next.isPaused === current.isPaused) return false;

    // Only the flag asked for is updated, so that two changes at once never undo each other.
    const stamp = { updated_at_ms: by.nowMs, updated_by: by.actor };
    const flags = { is_cadence: next.isCadence ? 1 : 0, is_paused: next.isPaused ? 1 : 0 };
    const changed =
      change.isPaused === undefined
        ? { is_cadence: flags.is_cadence }
        : { is_paused: flags.is_paused };
    await db
      .insertInto(SETTINGS_TABLE)
      .values({ environment, ...flags, ...stamp })
      .onConflict((conflict) =>
        conflict.column('environment').doUpdateSet({ ...changed, ...stamp }),
      )
      .execute();
    await appendAuditEntryIn(store, db, { actor: by.actor, subject: environment, ...audit });
    return true;
  });
}

async function readSettingsIn(db: Db, environment: string): Promise<EnvironmentSettings> {
  const row = await db
    .selectFrom(SETTINGS_TABLE)
    .selectAll()
    .where('environment', '=', environment)
    .executeTakeFirst();
  return row === undefined ? defaultSettingsOf(environment) : settingsOf(environment, row);
}

function settingsOf(environment: string, row: Record<string, unknown>): EnvironmentSettings {
  // prod takes part in the cadence whatever its row says.
  const isCadence = environment === PROD || Number(row.is_cadence) === 1;
  return { environment, isCadence, isPaused: Number(row.is_paused) === 1 };
}

function modelAudit(
  action: string,
  environment: string,
  modelName: string,
  by: SettingsActor,
): AuditEntryInput {
  return { actor: by.actor, action, subject: pausedModelId(environment, modelName), details: {} };
}

/** `<environment>/<model name>`, the row id of a paused model and its audit subject. */
function pausedModelId(environment: string, modelName: string): string {
  return `${environment}/${modelName}`;
}
