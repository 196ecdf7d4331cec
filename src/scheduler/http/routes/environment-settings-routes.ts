import {
  cadenceRequestSchema,
  environmentSettingsResponseSchema,
  modelPathSchema,
  settingsChangeResponseSchema,
} from '../../../protocol/environment-settings-api.js';
import { environmentPathSchema } from '../../../protocol/environments-api.js';
import {
  changeEnvironmentSettings,
  environmentSettingsInfo,
  type RefusalReason,
  type SettingsRequest,
} from '../../cadence/settings-changes.js';
import { HttpProblem } from '../api-errors.js';
import type { SchedulerApp } from '../scheduler-app.js';
import type { ServiceContext } from '../service-context.js';
import { checkEnvironmentParam } from './environment-params.js';
import { actorOf, noFieldsSchema } from './route-helpers.js';

/**
 * The cadence settings of an environment: read them (any reader); opt a development environment
 * in or out of the cadence, pause or resume an environment or one of its models (developers on
 * development environments, deployers and admins anywhere). Each change is audited.
 */

const WRITE = { permission: 'environment:write', environmentParam: 'name' } as const;

const STATUS_BY_REASON: Readonly<Record<RefusalReason, number>> = {
  environment_missing: 404,
  model_missing: 404,
  // The request is sound; prod is not an environment that can leave the cadence.
  prod_always_in_cadence: 409,
};

/** Registers the settings routes. */
export function registerEnvironmentSettingsRoutes(app: SchedulerApp, context: ServiceContext) {
  const change = async (request: SettingsRequest, actor: string) => {
    const outcome = await changeEnvironmentSettings(context.store, request, {
      actor,
      nowMs: Date.now(),
    });
    if (outcome.status === 'refused') {
      throw new HttpProblem(STATUS_BY_REASON[outcome.reason], 'usage', outcome.message);
    }
    return outcome.change;
  };

  app.get('/v1/environments/:name/settings', {
    schema: { params: environmentPathSchema, response: { 200: environmentSettingsResponseSchema } },
    config: { access: { permission: 'state:read' }, summary: "An environment's cadence settings" },
    handler: async (request) => {
      const name = checkEnvironmentParam(request.params.name);
      return { settings: await environmentSettingsInfo(context.store, name) };
    },
  });

  app.post('/v1/environments/:name/cadence', {
    schema: {
      params: environmentPathSchema,
      body: cadenceRequestSchema,
      response: { 200: settingsChangeResponseSchema },
    },
    config: {
      access: WRITE,
      summary: "Opt a development environment in or out of running on its models' crons",
    },
    handler: async (request) => {
      const environment = checkEnvironmentParam(request.params.name);
      const isEnabled = request.body.enabled;
      return change({ kind: 'cadence', environment, isEnabled }, actorOf(request));
    },
  });

  for (const kind of ['pause', 'resume'] as const) {
    app.post(`/v1/environments/:name/${kind}`, {
      schema: {
        params: environmentPathSchema,
        body: noFieldsSchema,
        response: { 200: settingsChangeResponseSchema },
      },
      config: {
        access: WRITE,
        summary:
          kind === 'pause'
            ? 'Pause an environment: the cadence starts no runs in it'
            : 'Resume a paused environment',
      },
      handler: async (request) => {
        const environment = checkEnvironmentParam(request.params.name);
        return change({ kind, environment }, actorOf(request));
      },
    });

    app.post(`/v1/environments/:name/models/:model/${kind}`, {
      schema: {
        params: modelPathSchema,
        body: noFieldsSchema,
        response: { 200: settingsChangeResponseSchema },
      },
      config: {
        access: WRITE,
        summary:
          kind === 'pause'
            ? 'Pause a model: the cadence leaves it and its downstream models out'
            : 'Resume a paused model',
      },
      handler: async (request) => {
        const environment = checkEnvironmentParam(request.params.name);
        const modelName = request.params.model;
        return change({ kind, environment, modelName }, actorOf(request));
      },
    });
  }
}
