import { buildOpenApiDocument, type OpenApiDocument, openApiDocumentSchema } from '../openapi.js';
import type { RegisteredRoute } from '../route-table.js';
import type { SchedulerApp } from '../scheduler-app.js';
import type { ServiceContext } from '../service-context.js';

/** Registers `/openapi.json`, built once from the routes registered when it is first asked for. */
export function registerOpenApiRoute(
  app: SchedulerApp,
  context: ServiceContext,
  routes: readonly RegisteredRoute[],
  version: string,
): void {
  let document: OpenApiDocument | undefined;
  app.get('/openapi.json', {
    schema: { response: { 200: openApiDocumentSchema } },
    config: { access: 'public', summary: 'This document' },
    handler: async () => {
      document ??= buildOpenApiDocument(routes, context.endpoints(), version);
      return document;
    },
  });
}
