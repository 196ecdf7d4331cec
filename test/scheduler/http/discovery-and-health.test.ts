import { decodeJwt } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { jwksSchema, serverMetadataSchema } from '../../../src/protocol/oauth.js';
import { startTestExecutor } from '../../helpers/protocol-client.js';
import {
  callApi,
  createTestClient,
  startTestScheduler,
  type TestScheduler,
} from '../../helpers/scheduler-service.js';
import { stateBackendsUnderTest } from '../../helpers/state-backends.js';

/** pino's level numbers. */
const DEBUG = 20;
const INFO = 30;

for (const backend of stateBackendsUnderTest()) {
  describe.skipIf(backend.skipReason !== '')(
    `discovery, probes and metrics on ${backend.name}`,
    () => {
      let scheduler: TestScheduler;

      beforeAll(async () => {
        scheduler = await startTestScheduler(backend);
      });

      afterAll(async () => {
        await scheduler?.close();
      });

      it('serves RFC 8414 metadata at both well-known paths, issuer the service URL', async () => {
        const oauth = await callApi(scheduler, '/.well-known/oauth-authorization-server');
        const openid = await callApi(scheduler, '/.well-known/openid-configuration');
        expect(oauth.status).toBe(200);
        expect(openid.json).toEqual(oauth.json);

        const metadata = serverMetadataSchema.parse(oauth.json);
        expect(metadata).toMatchObject({
          issuer: scheduler.url,
          token_endpoint: `${scheduler.url}/oauth/token`,
          jwks_uri: `${scheduler.url}/.well-known/jwks.json`,
          grant_types_supported: ['client_credentials'],
          token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
          response_types_supported: ['token'],
        });
        expect(metadata.scopes_supported).toContain('deployer');
      });

      it('publishes the signing keys as a JWKS of public Ed25519 keys only', async () => {
        const answer = await callApi(scheduler, '/.well-known/jwks.json');
        expect(answer.status).toBe(200);
        const jwks = jwksSchema.parse(answer.json);
        expect(jwks.keys.length).toBeGreaterThan(0);
        for (const key of jwks.keys) {
          expect(key).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig' });
          expect(Object.keys(key)).not.toContain('d');
        }

        const token = await scheduler.tokenFor(scheduler.admin.clientId, scheduler.admin.secret);
        const kid = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString()).kid;
        expect(jwks.keys.map((key) => key.kid)).toContain(kid);
      });

      it('answers /healthz and /readyz while the store answers', async () => {
        expect((await callApi(scheduler, '/healthz')).json).toEqual({ status: 'ok' });
        const ready = await callApi(scheduler, '/readyz');
        expect(ready.status).toBe(200);
        expect(ready.json).toEqual({ status: 'ready' });
      });

      it('shows metrics to a reader with a token, and to nobody without one', async () => {
        expect((await callApi(scheduler, '/metrics')).status).toBe(401);

        const viewer = await createTestClient(scheduler, 'metrics-reader', ['viewer']);
        await scheduler.tokenFor('metrics-reader', 'ss_wrong').catch(() => undefined);
        await callApi(scheduler, '/v1/environments', { token: viewer.token });

        const answer = await callApi(scheduler, '/metrics', { token: viewer.token });
        expect(answer.status).toBe(200);
        expect(answer.headers.get('content-type')).toContain('text/plain');
        expect(answer.text).toMatch(/^sluice_oauth_tokens_issued_total [1-9]/m);
        expect(answer.text).toMatch(
          /^sluice_oauth_token_failures_total\{reason="invalid_client"\} [1-9]/m,
        );
        expect(answer.text).toMatch(
          new RegExp(
            /^sluice_http_requests_total\{method="GET",/.source +
              /route="\/v1\/environments",status="200"\} [1-9]/.source,
            'm',
          ),
        );
        expect(answer.text).toContain('sluice_http_request_duration_seconds_bucket');
        expect(answer.text).toContain('process_cpu_user_seconds_total');
      });

      it('logs one line per request: route template, status, client, never the query', async () => {
        const viewer = await createTestClient(scheduler, 'log-reader', ['viewer']);
        await callApi(scheduler, '/v1/environments/dev?secret=hunter2', { token: viewer.token });

        const lines = scheduler.logs.map((line) => JSON.parse(line));
        expect(lines).toContainEqual(
          expect.objectContaining({
            component: 'scheduler',
            msg: 'request',
            method: 'GET',
            route: '/v1/environments/:name',
            status: 400,
            client_id: 'log-reader',
            durationMs: expect.any(Number),
          }),
        );
        expect(scheduler.logs.join('\n')).not.toContain('hunter2');
        expect(scheduler.logs.join('\n')).not.toContain(viewer.token);
      });

      it('logs task calls at debug, and refused task calls and other requests at info', async () => {
        const executor = await startTestExecutor(
          scheduler,
          'log-runner',
          ['executor:run'],
          ['run'],
        );
        const claim = { executor_id: executor.executorId, max_tasks: 1, wait_sec: 0 };
        expect((await executor.protocol.claim(claim)).status).toBe(204);
        const refused = await executor.protocol.complete('no-such-task', { epoch: 1 }, 'k');
        expect(refused.status).toBe(400);

        const line = (route: string, status: number) =>
          vi.waitFor(() => {
            const found = scheduler.logs
              .map((text) => JSON.parse(text))
              .find(
                (entry) =>
                  entry.msg === 'request' && entry.route === route && entry.status === status,
              );
            if (found === undefined) throw new Error(`no log line for ${route} ${status} yet`);
            return found;
          });
        expect(await line('/v1/executors/hello', 200)).toMatchObject({ level: INFO });
        expect(await line('/v1/tasks/claim', 204)).toMatchObject({
          level: DEBUG,
          client_id: 'log-runner',
        });
        expect(await line('/v1/tasks/:id/complete', 400)).toMatchObject({ level: INFO });
      });
    },
  );

  describe.skipIf(backend.skipReason !== '')(`a given public URL on ${backend.name}`, () => {
    let scheduler: TestScheduler | undefined;

    afterEach(async () => {
      await scheduler?.close();
      scheduler = undefined;
    });

    it('issues tokens and metadata for the public URL while listening elsewhere', async () => {
      scheduler = await startTestScheduler(backend, { publicUrl: 'https://sluice.example.com/' });
      expect(scheduler.publicUrl).toBe('https://sluice.example.com');

      const metadata = await callApi(scheduler, '/.well-known/oauth-authorization-server');
      expect(metadata.json.issuer).toBe('https://sluice.example.com');
      expect(metadata.json.token_endpoint).toBe('https://sluice.example.com/oauth/token');

      const token = await scheduler.tokenFor(scheduler.admin.clientId, scheduler.admin.secret);
      expect(decodeJwt(token)).toMatchObject({
        iss: 'https://sluice.example.com',
        aud: 'https://sluice.example.com/v1',
      });
      expect((await callApi(scheduler, '/v1/clients', { token })).status).toBe(200);
    });

    it('reports not ready once the state store stops answering', async () => {
      scheduler = await startTestScheduler(backend);
      await scheduler.store.close();

      const answer = await callApi(scheduler, '/readyz');
      expect(answer.status).toBe(503);
      expect(answer.json).toEqual({ status: 'unready', reason: 'The state store does not answer' });
      expect((await callApi(scheduler, '/healthz')).status).toBe(200);
    });
  });
}
