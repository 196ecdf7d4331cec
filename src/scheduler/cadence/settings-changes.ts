import { PROD } from '../../core/environments.js';
import { SluiceError } from '../../core/errors.js';
import type {
  EnvironmentSettingsInfo,
  SettingsChangeInfo,
} from '../../protocol/environment-settings-api.js';
import {
  listPausedModels,
  pauseModel,
  readEnvironmentSettings,
  resumeModel,
  setEnvironmentCadence,
  setEnvironmentPaused,
} from '../../state/environment-settings.js';
import { readEnvironment } from '../../state/environment-store.js';
import type { StateStore } from '../../state/state-store.js';

/**
 * Changes to the cadence settings, as the API and the CLI's local mode both make them, so that
 * both check and answer alike: the environment must exist, a model paused must be one of its
 * models, and prod cannot leave the cadence (it can be paused). Refusals are returned as data
 * with the message to show; the caller turns them into an HTTP status or a CLI error.
 */

/** A change: opt in or out of the cadence, or pause or resume an environment or one model. */
export type SettingsRequest =
  | { readonly kind: 'cadence'; readonly environment: string; readonly isEnabled: boolean }
  | {
      readonly kind: 'pause' | 'resume';
      readonly environment: string;
      readonly modelName?: string;
    };

/** Why a change was refused. */
export type RefusalReason = 'environment_missing' | 'model_missing' | 'prod_always_in_cadence';

/** How a change went. */
export type SettingsOutcome =
  | { readonly status: 'done'; readonly change: SettingsChangeInfo }
  | { readonly status: 'refused'; readonly reason: RefusalReason; readonly message: string };

/** Who asks, and when. */
export type SettingsActor = { readonly actor: string; readonly nowMs: number };

/** Makes the change unless it is refused; every change is audited as `by.actor`. */
export async function changeEnvironmentSettings(
  store: StateStore,
  request: SettingsRequest,
  by: SettingsActor,
): Promise<SettingsOutcome> {
  const { environment } = request;
  const record = await readEnvironment(store, environment);
  if (record === undefined) {
    return refused(
      'environment_missing',
      `Environment '${environment}' does not exist; create it with 'sluice plan ${environment}'`,
    );
  }

  if (request.kind === 'cadence') {
    if (environment === PROD && !request.isEnabled) {
      return refused(
        'prod_always_in_cadence',
        "prod always runs on its models' crons; to stop its runs, pause it with " +
          "'sluice pause prod'",
      );
    }
    const changed = await setEnvironmentCadence(store, environment, request.isEnabled, by);
    return done(store, environment, changed);
  }

  const isPause = request.kind === 'pause';
  if (request.modelName === undefined) {
    const changed = await setEnvironmentPaused(store, environment, isPause, by);
    return done(store, environment, changed);
  }
  const { modelName } = request;
  if (isPause && record.snapshotIds[modelName] === undefined) {
    return refused(
      'model_missing',
      `Environment '${environment}' has no model '${modelName}'; give a model's full name ` +
        "as 'sluice dag' prints it, such as 'shop.orders'",
    );
  }
  const changed = isPause
    ? await pauseModel(store, environment, modelName, by)
    : await resumeModel(store, environment, modelName, by);
  return done(store, environment, changed);
}

/** An environment's settings in their wire form. */
export async function environmentSettingsInfo(
  store: StateStore,
  environment: string,
): Promise<EnvironmentSettingsInfo> {
  const settings = await readEnvironmentSettings(store, environment);
  const paused = await listPausedModels(store, environment);
  return {
    environment,
    is_cadence: settings.isCadence,
    is_paused: settings.isPaused,
    paused_models: paused.map((model) => model.modelName),
  };
}

/** The error the CLI's local mode reports for a refusal; the API answers with its message. */
export function refusalError(outcome: Extract<SettingsOutcome, { status: 'refused' }>) {
  return new SluiceError('usage', outcome.message);
}

async function done(
  store: StateStore,
  environment: string,
  changed: boolean,
): Promise<SettingsOutcome> {
  return {
    status: 'done',
    change: { settings: await environmentSettingsInfo(store, environment), changed },
  };
}

function refused(reason: RefusalReason, message: string): SettingsOutcome {
  return { status: 'refused', reason, message };
}
