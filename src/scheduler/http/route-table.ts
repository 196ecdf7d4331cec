import type { FastifyInstance, RouteOptions } from 'fastify';
import { z } from 'zod';
import { SluiceError } from '../../core/errors.js';
import { apiErrorSchema } from '../../protocol/api-error.js';
import type { Permission } from '../auth/access-policy.js';

/**
 * Every route declares who may call it, and the service refuses to start with a route that does
 * not, so no endpoint can exist unchecked. The table also gives each route the schemas it left
 * out (an empty query string, the shared error body) and keeps the list the OpenAPI document is
 * built from.
 */

/**
 * Who may call a route: anyone, any client with a valid token whatever its roles, or clients
 * whose roles grant the permission.
 */
export type RouteAccess =
  | 'public'
  | 'authenticated'
  | {
      readonly permission: Permission;
      /** The path parameter naming the environment, for permissions decided per environment. */
      readonly environmentParam?: string;
    };

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call the route; required on every route. */
    access?: RouteAccess;
    /** One line for the OpenAPI document. */
    summary?: string;
    /** A form body the handler parses itself (the token endpoint), for the OpenAPI document. */
    formBody?: z.ZodType;
    /** The media type of a success answer that is not JSON. */
    produces?: string;
  }
}

/** The request and response schemas of a route, all zod. */
export type RouteSchemas = {
  readonly body?: z.ZodType;
  readonly querystring?: z.ZodType;
  readonly params?: z.ZodType;
  /** Headers the route requires; a loose object, since clients and proxies add their own. */
  readonly headers?: z.ZodType;
  readonly response?: Readonly<Record<string, z.ZodType>>;
};

/** A route as the OpenAPI document describes it. */
export type RegisteredRoute = {
  readonly method: string;
  readonly url: string;
  readonly access: RouteAccess;
  readonly schemas: RouteSchemas;
  readonly summary: string | undefined;
  readonly formBody: z.ZodType | undefined;
  readonly produces: string | undefined;
};

/** Query strings are checked like bodies: a route that takes none refuses any. */
const NO_QUERY = z.strictObject({});

/**
 * Installs the checks on `app` and returns the list it fills as routes are added; routes added
 * in child scopes are seen too.
 */
export function installRouteTable(app: FastifyInstance): RegisteredRoute[] {
  const routes: RegisteredRoute[] = [];
  app.addHook('onRoute', (options) => {
    routes.push(...registerRoute(options));
  });
  return routes;
}

function registerRoute(options: RouteOptions): RegisteredRoute[] {
  const access = options.config?.access;
  const methods = Array.isArray(options.method) ? options.method : [options.method];
  if (access === undefined) {
    throw new SluiceError(
      'internal',
      `Route ${methods.join(',')} ${options.url} declares no access; add ` +
        "config.access: 'public', 'authenticated' or { permission } so that it is checked",
    );
  }

  const given = (options.schema ?? {}) as RouteSchemas;
  const schemas: RouteSchemas = {
    ...given,
    querystring: given.querystring ?? NO_QUERY,
    response: { '4xx': apiErrorSchema, '5xx': apiErrorSchema, ...given.response },
  };
  options.schema = schemas;

  return methods.map((method) => ({
    method,
    url: options.url,
    access,
    schemas,
    summary: options.config?.summary,
    formBody: options.config?.formBody,
    produces: options.config?.produces,
  }));
}
