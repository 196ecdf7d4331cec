import { PROD } from '../../../core/environments.js';
import {
  type EnvironmentInfo,
  environmentPathSchema,
  environmentResponseSchema,
  listEnvironmentsResponseSchema,
} from '../../../protocol/environments-api.js';
import { appendAuditEntry } from '../../../state/audit-log.js';
import {
  type EnvironmentRecord,
  expireEnvironment,
  listEnvironments,
  readEnvironment,
} from '../../../state/environment-store.js';
import { HttpProblem } from '../api-errors.js';
import type { SchedulerApp } from '../scheduler-app.js';
import type { ServiceContext } from '../service-context.js';
import { checkEnvironmentParam } from './environment-params.js';
import { actorOf, noFieldsSchema } from './route-helpers.js';

/**
 * Environments: list and inspect them (any reader), and invalidate one (developers on development
 * environments, deployers and admins anywhere; prod itself never expires, so invalidating it is
 * refused for everyone).
 */

const READ = { permission: 'state:read' } as const;

/** Registers the environment routes. */
export function registerEnvironmentRoutes(app: SchedulerApp, context: ServiceContext): void {
  const { store } = context;

  app.get('/v1/environments', {
    schema: { response: { 200: listEnvironmentsResponseSchema } },
    config: { access: READ, summary: 'List the environments' },
    handler: async () => ({ environments: (await listEnvironments(store)).map(environmentInfo) }),
  });

  app.get('/v1/environments/:name', {
    schema: { params: environmentPathSchema, response: { 200: environmentResponseSchema } },
    config: { access: READ, summary: 'One environment' },
    handler: async (request) => {
      const name = checkEnvironmentParam(request.params.name);
      return { environment: environmentInfo(await readExisting(context, name)) };
    },
  });

  app.post('/v1/environments/:name/invalidate', {
    schema: {
      params: environmentPathSchema,
      body: noFieldsSchema,
      response: { 200: environmentResponseSchema },
    },
    config: {
      access: { permission: 'environment:write', environmentParam: 'name' },
      summary: 'Make a development environment expire now; the janitor then removes its views',
    },
    handler: async (request) => {
      const name = checkEnvironmentParam(request.params.name);
      if (name === PROD) {
        // The same words as `sluice invalidate prod`; 409: the request is sound, prod is not.
        throw new HttpProblem(
          409,
          'usage',
          'prod cannot be invalidated; only development environments expire',
        );
      }

      const now = new Date();
      if (!(await expireEnvironment(store, name, now))) throw missingEnvironment(name);
      await appendAuditEntry(store, {
        actor: actorOf(request),
        action: 'environment.invalidated',
        subject: name,
        details: { expiresAt: now.toISOString() },
      });
      return { environment: environmentInfo(await readExisting(context, name)) };
    },
  });
}

/** An environment in its wire form. */
export function environmentInfo(environment: EnvironmentRecord): EnvironmentInfo {
  return {
    name: environment.name,
    revision: environment.revision,
    models: Object.keys(environment.snapshotIds).length,
    plan_id: environment.planId ?? null,
    created_at: environment.createdAt,
    updated_at: environment.updatedAt,
    last_used_at: environment.lastUsedAt,
    expires_at: environment.expiresAt ?? null,
  };
}

async function readExisting(context: ServiceContext, name: string): Promise<EnvironmentRecord> {
  const environment = await readEnvironment(context.store, name);
  if (environment === undefined) throw missingEnvironment(name);
  return environment;
}

function missingEnvironment(name: string): HttpProblem {
  return new HttpProblem(
    404,
    'usage',
    `Environment '${name}' does not exist; create it with 'sluice plan ${name}'`,
  );
}
