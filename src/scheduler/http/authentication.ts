import type { FastifyRequest } from 'fastify';
import { SluiceError } from '../../core/errors.js';
import { permits, rolesGranting } from '../auth/access-policy.js';
import type { Principal } from '../auth/principal.js';
import { HttpProblem, lowerFirst } from './api-errors.js';
import type { RouteAccess } from './route-table.js';
import type { SchedulerApp } from './scheduler-app.js';
import type { ServiceContext } from './service-context.js';

/**
 * Checks every request against its route's access declaration before the body is even read: a
 * bearer token verified by the TokenVerifier (signature, issuer, audience, type, lifetime,
 * revocation), then the permission the route names, per environment where it says so.
 */

declare module 'fastify' {
  interface FastifyRequest {
    /** The verified caller, on routes that need a token. */
    principal: Principal | undefined;
  }
}

const REALM = 'realm="sluice"';

/** Adds the check to every route of `app`. */
export function installAuthentication(app: SchedulerApp, context: ServiceContext): void {
  app.decorateRequest('principal', undefined);
  app.addHook('onRequest', async (request) => {
    const access = request.routeOptions.config.access;
    if (access === undefined) {
      // Only the not-found answer has no route, and so no declaration; every route has one.
      if (request.is404) return;
      throw new SluiceError('internal', 'A route without an access declaration was called');
    }
    if (access === 'public') return;

    request.principal = await authenticate(request, context);
    if (access !== 'authenticated') authorise(request, request.principal, access);
  });
}

async function authenticate(request: FastifyRequest, context: ServiceContext): Promise<Principal> {
  const token = bearerToken(request.headers.authorization);
  try {
    return await context.verifier().verify(token);
  } catch (error) {
    if (error instanceof SluiceError && error.code === 'auth_invalid') {
      throw unauthorised(`The access token was refused: ${lowerFirst(error.message)}`, true);
    }
    throw error;
  }
}

function bearerToken(header: string | undefined): string {
  if (header === undefined || header === '') {
    throw unauthorised(
      'This endpoint needs an access token; get one from /oauth/token and send it as ' +
        "'Authorization: Bearer <token>'",
      false,
    );
  }

  const match = /^Bearer +([^\s]+) *$/i.exec(header);
  if (match?.[1] === undefined) {
    throw unauthorised(
      "The Authorization header must be 'Bearer <token>' with the token from /oauth/token",
      true,
    );
  }
  return match[1];
}

function authorise(
  request: FastifyRequest,
  principal: Principal,
  access: Exclude<RouteAccess, 'public' | 'authenticated'>,
): void {
  const environment = environmentOf(request, access);
  if (permits(principal.roles, access.permission, environment)) return;

  const granting = rolesGranting(access.permission, environment);
  const where = environment === undefined ? '' : ` on environment '${environment}'`;
  const held = principal.roles.length === 0 ? 'none' : quoteAll(principal.roles);
  throw new HttpProblem(
    403,
    'auth_forbidden',
    `Client '${principal.clientId}' may not do this: it needs the permission ` +
      `'${access.permission}'${where}, which the roles ${quoteAll(granting)} grant; its token ` +
      `holds ${held}. Ask an admin for a client with one of those roles`,
    undefined,
    { 'www-authenticate': `Bearer ${REALM}, error="insufficient_scope"` },
  );
}

function environmentOf(
  request: FastifyRequest,
  access: Exclude<RouteAccess, 'public' | 'authenticated'>,
): string | undefined {
  if (access.environmentParam === undefined) return undefined;
  const params = request.params as Record<string, unknown>;
  const value = params[access.environmentParam];
  return typeof value === 'string' ? value : '';
}

function unauthorised(message: string, isInvalidToken: boolean): HttpProblem {
  const challenge = isInvalidToken ? `Bearer ${REALM}, error="invalid_token"` : `Bearer ${REALM}`;
  return new HttpProblem(401, 'auth_invalid', message, undefined, {
    'www-authenticate': challenge,
  });
}

function quoteAll(names: readonly string[]): string {
  return names.map((name) => `'${name}'`).join(', ');
}
