import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installRouteTable } from '../../../src/scheduler/http/route-table.js';
import {
  callApi,
  startTestScheduler,
  type TestScheduler,
} from '../../helpers/scheduler-service.js';
import { stateBackendsUnderTest } from '../../helpers/state-backends.js';

const PUBLIC_ROUTES = [
  'GET /.well-known/jwks.json',
  'GET /.well-known/oauth-authorization-server',
  'GET /.well-known/openid-configuration',
  'GET /healthz',
  'GET /openapi.json',
  'GET /readyz',
  'POST /oauth/token',
];

/** Routes that need a valid token but no particular permission. */
const ANY_CLIENT_ROUTES = ['GET /v1/whoami'];

/**
 * The routes Fastify holds, as `METHOD /path/{param}`, read from its printed route tree: each
 * line is a path relative to the line it is nested under (four characters a level).
 */
function registeredRoutes(scheduler: TestScheduler): string[] {
  const printed = scheduler.app.printRoutes({ commonPrefix: false });
  const parents: string[] = [];
  const routes: string[] = [];
  for (const line of printed.split('\n')) {
    const match = /^(.*?)(\/\S*) \(([A-Z, ]+)\)$/.exec(line);
    if (match?.[2] === undefined || match[3] === undefined) continue;
    const depth = (match[1]?.length ?? 0) / 4 - 1;
    parents.length = depth;
    const path = `${parents.join('')}${match[2]}`;
    parents.push(match[2]);
    for (const method of match[3].split(', ')) {
      routes.push(`${method} ${path.replace(/:(\w+)/g, '{$1}')}`);
    }
  }
  return routes.sort();
}

describe('the route table', () => {
  it('refuses to start with a route that declares no access', async () => {
    const app = Fastify();
    installRouteTable(app);

    expect(() => app.get('/unchecked', async () => 'open')).toThrow(
      /Route GET \/unchecked declares no access/,
    );
    await app.close();
  });

  it('gives a route without a query schema one that refuses every query field', async () => {
    const app = Fastify();
    const routes = installRouteTable(app);
    app.get('/probe', { config: { access: 'public' } }, async () => 'ok');

    const query = routes[0]?.schemas.querystring;
    expect(query?.safeParse({}).success).toBe(true);
    expect(query?.safeParse({ extra: '1' }).success).toBe(false);
    await app.close();
  });
});

for (const backend of stateBackendsUnderTest()) {
  describe.skipIf(backend.skipReason !== '')(`the published routes on ${backend.name}`, () => {
    let scheduler: TestScheduler;

    beforeAll(async () => {
      scheduler = await startTestScheduler(backend);
    });

    afterAll(async () => {
      await scheduler?.close();
    });

    it('describes every registered route in /openapi.json, and nothing else', async () => {
      const answer = await callApi(scheduler, '/openapi.json');
      expect(answer.status).toBe(200);
      expect(answer.json.openapi).toBe('3.1.0');

      const documented = Object.entries(answer.json.paths as Record<string, object>)
        .flatMap(([path, operations]) =>
          Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`),
        )
        .sort();
      expect(registeredRoutes(scheduler).length).toBeGreaterThan(PUBLIC_ROUTES.length);
      expect(documented).toEqual(registeredRoutes(scheduler));
    });

    it('asks for a bearer token on all but the public routes, naming each permission', async () => {
      const { json } = await callApi(scheduler, '/openapi.json');
      for (const [path, operations] of Object.entries(json.paths as Record<string, object>)) {
        for (const [method, operation] of Object.entries(operations)) {
          const route = `${method.toUpperCase()} ${path}`;
          const isPublic = PUBLIC_ROUTES.includes(route);
          expect(operation.security, route).toEqual(isPublic ? [] : [{ bearer: [] }]);
          const needsPermission = !isPublic && !ANY_CLIENT_ROUTES.includes(route);
          expect(typeof operation['x-sluice-permission'], route).toBe(
            needsPermission ? 'string' : 'undefined',
          );
        }
      }
      expect(json.components.securitySchemes.bearer).toMatchObject({
        type: 'http',
        scheme: 'bearer',
      });
    });

    it('refuses a call without a token on every route that is not public', async () => {
      const guarded = registeredRoutes(scheduler).filter((route) => !PUBLIC_ROUTES.includes(route));
      for (const route of guarded) {
        const [method, path] = route.split(' ') as [string, string];
        const url = path.replace(/\{\w+\}/g, 'dev');
        const answer = await callApi(scheduler, url, { method });
        expect(answer.status, route).toBe(401);
        expect(answer.json.error.code, route).toBe('auth_invalid');
        expect(answer.headers.get('www-authenticate'), route).toBe('Bearer realm="sluice"');
      }
    });

    it('describes the token endpoint as a form with the client credentials fields', async () => {
      const { json } = await callApi(scheduler, '/openapi.json');
      const token = json.paths['/oauth/token'].post;
      const form = token.requestBody.content['application/x-www-form-urlencoded'].schema;
      expect(Object.keys(form.properties)).toEqual(
        expect.arrayContaining(['grant_type', 'scope', 'client_id', 'client_secret']),
      );
      expect(token.responses['4XX'].content['application/json'].schema).toEqual({
        $ref: '#/components/schemas/OAuthError',
      });
    });

    it('answers an unknown path with 404 in the error format, not repeating the path', async () => {
      const answer = await callApi(scheduler, '/v1/no-such-thing?client_secret=ss_pasted');
      expect(answer.status).toBe(404);
      expect(answer.json.error.code).toBe('not_found');
      expect(answer.text).not.toContain('ss_pasted');
      expect(answer.text).not.toContain('no-such-thing');
    });
  });
}
