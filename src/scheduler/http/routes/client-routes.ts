import {
  clientPathSchema,
  clientWithSecretSchema,
  createClientRequestSchema,
  listClientsResponseSchema,
  revokeClientResponseSchema,
  rotateSecretRequestSchema,
} from '../../../protocol/clients-api.js';
import {
  createClient,
  listClientInfos,
  revokeClientAccess,
  rotateClientSecret,
} from '../../auth/client-registry.js';
import type { SchedulerApp } from '../scheduler-app.js';
import type { ServiceContext } from '../service-context.js';
import { actorOf, noFieldsSchema } from './route-helpers.js';

/**
 * OAuth client administration for admins: create, list, rotate a secret, revoke. A new secret
 * appears once, in the answer that made it. Each change is written to the audit log by the client
 * registry, with the calling client as the actor.
 */

const MANAGE = { permission: 'clients:manage' } as const;

/** Registers the four client routes. */
export function registerClientRoutes(app: SchedulerApp, context: ServiceContext): void {
  const { store } = context;

  app.post('/v1/clients', {
    schema: { body: createClientRequestSchema, response: { 201: clientWithSecretSchema } },
    config: { access: MANAGE, summary: 'Create an OAuth client; its secret is shown once' },
    handler: async (request, reply) => {
      const { client_id: clientId, roles } = request.body;
      const issued = await createClient(store, { clientId, roles, actor: actorOf(request) });
      return reply.code(201).send({ client: issued.client, client_secret: issued.secret });
    },
  });

  app.get('/v1/clients', {
    schema: { response: { 200: listClientsResponseSchema } },
    config: { access: MANAGE, summary: 'List the OAuth clients, revoked ones included' },
    handler: async () => ({ clients: await listClientInfos(store) }),
  });

  app.post('/v1/clients/:client_id/rotate-secret', {
    schema: {
      params: clientPathSchema,
      body: rotateSecretRequestSchema.optional(),
      response: { 200: clientWithSecretSchema },
    },
    config: {
      access: MANAGE,
      summary: 'Give a client a new secret; the old one works for a grace',
    },
    handler: async (request) => {
      const issued = await rotateClientSecret(store, {
        clientId: request.params.client_id,
        ...(request.body?.grace_sec === undefined ? {} : { graceSec: request.body.grace_sec }),
        actor: actorOf(request),
      });
      return { client: issued.client, client_secret: issued.secret };
    },
  });

  app.post('/v1/clients/:client_id/revoke', {
    schema: {
      params: clientPathSchema,
      body: noFieldsSchema,
      response: { 200: revokeClientResponseSchema },
    },
    config: { access: MANAGE, summary: 'Revoke a client: its secrets and tokens stop working' },
    handler: async (request) => {
      const clientId = request.params.client_id;
      const client = await revokeClientAccess(store, { clientId, actor: actorOf(request) });
      // Applies at once on this replica; other replicas see it at their next refresh.
      context.revocations.markRevoked(clientId);
      return { client };
    },
  });
}
