import { checkEnvironmentName } from '../../core/environments.js';
import {
  type SettingsChangeInfo,
  settingsChangeResponseSchema,
} from '../../protocol/environment-settings-api.js';
import {
  changeEnvironmentSettings,
  refusalError,
  type SettingsRequest,
} from '../../scheduler/cadence/settings-changes.js';
import { SchedulerApiClient } from '../api-client.js';
import { localActor, remoteSettingsOf } from '../client-access.js';
import type { CommandContext } from '../output.js';
import type { StateCliOptions } from '../state-context.js';
import { withStore } from '../with-state.js';

/**
 * `sluice environments cadence NAME on|off`, `sluice pause ENV [MODEL]` and `sluice resume ENV
 * [MODEL]`: the cadence settings, changed through the Scheduler's API when SLUICE_URL is set and
 * on the state store otherwise. Both answer in the API's shape, so the output is the same.
 */

/** `sluice environments cadence NAME on|off`. */
export function cadenceCommand(
  context: CommandContext,
  environment: string,
  state: 'on' | 'off',
  options: StateCliOptions,
): Promise<void> {
  const request: SettingsRequest = {
    kind: 'cadence',
    environment: checkEnvironmentName(environment),
    isEnabled: state === 'on',
  };
  return changeAndPrint(context, request, options);
}

/** `sluice pause ENV [MODEL]` and `sluice resume ENV [MODEL]`. */
export function pauseCommand(
  context: CommandContext,
  kind: 'pause' | 'resume',
  environment: string,
  modelName: string | undefined,
  options: StateCliOptions,
): Promise<void> {
  const request: SettingsRequest = {
    kind,
    environment: checkEnvironmentName(environment),
    ...(modelName === undefined ? {} : { modelName }),
  };
  return changeAndPrint(context, request, options);
}

async function changeAndPrint(
  context: CommandContext,
  request: SettingsRequest,
  options: StateCliOptions,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  const remote = remoteSettingsOf(env);
  const change =
    remote === undefined
      ? await withStore(context, options, true, (store) => changeLocally(store, request))
      : await changeRemotely(new SchedulerApiClient(remote), request);
  context.output.stdout.write(`${describeChange(request, change)}\n`);
}

async function changeLocally(
  store: Parameters<typeof changeEnvironmentSettings>[0],
  request: SettingsRequest,
): Promise<SettingsChangeInfo> {
  const by = { actor: localActor(), nowMs: Date.now() };
  const outcome = await changeEnvironmentSettings(store, request, by);
  if (outcome.status === 'refused') throw refusalError(outcome);
  return outcome.change;
}

function changeRemotely(
  api: SchedulerApiClient,
  request: SettingsRequest,
): Promise<SettingsChangeInfo> {
  const base = `/v1/environments/${encodeURIComponent(request.environment)}`;
  if (request.kind === 'cadence') {
    return api.call({
      method: 'POST',
      path: `${base}/cadence`,
      body: { enabled: request.isEnabled },
      schema: settingsChangeResponseSchema,
    });
  }
  const model =
    request.modelName === undefined ? '' : `/models/${encodeURIComponent(request.modelName)}`;
  return api.call({
    method: 'POST',
    path: `${base}${model}/${request.kind}`,
    body: {},
    schema: settingsChangeResponseSchema,
  });
}

/** One line saying what changed, or that nothing had to. */
export function describeChange(request: SettingsRequest, change: SettingsChangeInfo): string {
  const name = request.environment;
  if (request.kind === 'cadence') {
    if (request.isEnabled) {
      return change.changed
        ? `Environment '${name}' now runs on its models' crons.`
        : `Environment '${name}' already runs on its models' crons.`;
    }
    return change.changed
      ? `Environment '${name}' no longer runs on its models' crons.`
      : `Environment '${name}' was not running on its models' crons.`;
  }

  if (request.modelName !== undefined) return describeModelChange(request, change);
  if (request.kind === 'pause') {
    return change.changed
      ? `Paused environment '${name}': the cadence starts no runs in it until ` +
          `'sluice resume ${name}'.`
      : `Environment '${name}' was already paused.`;
  }
  if (!change.changed) return `Environment '${name}' was not paused.`;
  return change.settings.is_cadence
    ? `Resumed environment '${name}': its models run on their crons again.`
    : `Resumed environment '${name}'; it is not in the cadence (turn that on with ` +
        `'sluice environments cadence ${name} on').`;
}

function describeModelChange(
  request: Extract<SettingsRequest, { kind: 'pause' | 'resume' }>,
  change: SettingsChangeInfo,
): string {
  const where = `model '${request.modelName}' in '${request.environment}'`;
  if (request.kind === 'pause') {
    return change.changed
      ? `Paused ${where}: the cadence leaves it and its downstream models out until ` +
          `'sluice resume ${request.environment} ${request.modelName}'.`
      : `The ${where} was already paused.`;
  }
  return change.changed ? `Resumed ${where}.` : `The ${where} was not paused.`;
}
