import { z } from 'zod';
import { apiErrorSchema } from '../../protocol/api-error.js';
import { oauthErrorSchema } from '../../protocol/oauth.js';
import type { RegisteredRoute, RouteSchemas } from './route-table.js';
import type { PublicEndpoints } from './service-context.js';

/**
 * The OpenAPI 3.1 document of the service, built from the registered routes and their zod
 * schemas, so that it cannot drift from what the service checks. Routes that need a token carry
 * the bearer security requirement and name the permission they check.
 */

/** The frame of the document, checked on the way out; the rest is open-ended. */
export const openApiDocumentSchema = z.looseObject({
  openapi: z.literal('3.1.0'),
  info: z.looseObject({ title: z.string(), version: z.string() }),
  paths: z.record(z.string(), z.unknown()),
});

/** The document as a JSON value. */
export type OpenApiDocument = z.infer<typeof openApiDocumentSchema>;

type JsonSchema = Record<string, unknown>;

/** Schemas shared by many operations, described once under `components.schemas`. */
const SHARED_SCHEMAS: ReadonlyMap<z.ZodType, string> = new Map<z.ZodType, string>([
  [apiErrorSchema, 'ApiError'],
  [oauthErrorSchema, 'OAuthError'],
]);

const RESPONSE_DESCRIPTIONS: Readonly<Record<string, string>> = {
  '200': 'Success',
  '201': 'Created',
  '204': 'No content',
  '4XX': 'The request was refused; the body says why',
  '5XX': 'The service failed or is not ready',
  '503': 'Not ready',
};

/** Builds the document for the routes of a service published at `endpoints`. */
export function buildOpenApiDocument(
  routes: readonly RegisteredRoute[],
  endpoints: PublicEndpoints,
  version: string,
): OpenApiDocument {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const path = openApiPath(route.url);
    paths[path] = { ...paths[path], [route.method.toLowerCase()]: operationOf(route) };
  }

  return {
    openapi: '3.1.0',
    info: { title: 'Sluice Scheduler API', version },
    servers: [{ url: endpoints.issuer }],
    paths,
    components: {
      schemas: Object.fromEntries(
        [...SHARED_SCHEMAS].map(([schema, name]) => [name, jsonSchemaOf(schema, 'output')]),
      ),
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: `An access token from ${endpoints.tokenEndpoint} (client credentials)`,
        },
      },
    },
  };
}

/** `/v1/clients/:client_id/revoke` as `/v1/clients/{client_id}/revoke`. */
function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, '{$1}');
}

function operationOf(route: RegisteredRoute): Record<string, unknown> {
  const isPublic = route.access === 'public';
  const operation: Record<string, unknown> = {
    ...(route.summary === undefined ? {} : { summary: route.summary }),
    parameters: parametersOf(route.schemas),
    responses: responsesOf(route),
    security: isPublic ? [] : [{ bearer: [] }],
  };
  if (typeof route.access === 'object') {
    operation['x-sluice-permission'] = route.access.permission;
  }

  const body = requestBodyOf(route);
  if (body !== undefined) operation.requestBody = body;
  return operation;
}

function parametersOf(schemas: RouteSchemas): unknown[] {
  return [
    ...parametersIn('path', schemas.params),
    ...parametersIn('query', schemas.querystring),
    ...parametersIn('header', schemas.headers),
  ];
}

function parametersIn(
  where: 'path' | 'query' | 'header',
  schema: z.ZodType | undefined,
): unknown[] {
  if (schema === undefined) return [];
  const json = jsonSchemaOf(schema, 'input');
  const properties = (json.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((json.required ?? []) as string[]);
  return Object.entries(properties).map(([name, property]) => ({
    name,
    in: where,
    required: where === 'path' || required.has(name),
    schema: property,
  }));
}

function requestBodyOf(route: RegisteredRoute): Record<string, unknown> | undefined {
  if (route.formBody !== undefined) {
    const schema = jsonSchemaOf(route.formBody, 'input');
    return {
      required: true,
      content: { 'application/x-www-form-urlencoded': { schema } },
    };
  }
  if (route.schemas.body === undefined) return undefined;

  return {
    required: !route.schemas.body.safeParse(undefined).success,
    content: { 'application/json': { schema: jsonSchemaOf(route.schemas.body, 'input') } },
  };
}

function responsesOf(route: RegisteredRoute): Record<string, unknown> {
  const responses: Record<string, unknown> = {};
  for (const [status, schema] of Object.entries(route.schemas.response ?? {})) {
    const key = status.toUpperCase();
    if (key === '204') {
      responses[key] = { description: schema.description ?? RESPONSE_DESCRIPTIONS[key] };
      continue;
    }
    const isSuccess = key.startsWith('2');
    const mediaType =
      isSuccess && route.produces !== undefined ? route.produces : 'application/json';
    responses[key] = {
      description: RESPONSE_DESCRIPTIONS[key] ?? `Status ${key}`,
      content: { [mediaType]: { schema: responseSchemaOf(schema) } },
    };
  }
  return responses;
}

function responseSchemaOf(schema: z.ZodType): JsonSchema {
  const shared = SHARED_SCHEMAS.get(schema);
  return shared === undefined
    ? jsonSchemaOf(schema, 'output')
    : { $ref: `#/components/schemas/${shared}` };
}

function jsonSchemaOf(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const json = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
  delete json.$schema;
  return json;
}
