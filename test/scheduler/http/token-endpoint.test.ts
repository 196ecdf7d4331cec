import { decodeJwt, decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FailedAttempts } from '../../../src/scheduler/http/routes/failed-attempts.js';
import {
  type ApiAnswer,
  callApi,
  createTestClient,
  startTestScheduler,
  type TestClient,
  type TestScheduler,
} from '../../helpers/scheduler-service.js';
import { stateBackendsUnderTest } from '../../helpers/state-backends.js';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

function basic(clientId: string, secret: string): Record<string, string> {
  const pair = `${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`;
  return { authorization: `Basic ${Buffer.from(pair).toString('base64')}` };
}

function expectUncacheable(answer: ApiAnswer) {
  expect(answer.headers.get('cache-control')).toBe('no-store');
  expect(answer.headers.get('pragma')).toBe('no-cache');
}

for (const backend of stateBackendsUnderTest()) {
  describe.skipIf(backend.skipReason !== '')(`the token endpoint on ${backend.name}`, () => {
    let scheduler: TestScheduler;
    let deployer: TestClient;

    beforeAll(async () => {
      scheduler = await startTestScheduler(backend, {
        tokenRateLimit: { capacity: 200, refillPerSec: 100 },
      });
      deployer = await createTestClient(scheduler, 'deploy-bot', ['deployer', 'viewer']);
    });

    afterAll(async () => {
      await scheduler?.close();
    });

    const tokenRequest = (body: string, headers: Record<string, string> = {}) =>
      callApi(scheduler, '/oauth/token', { body, headers: { ...FORM, ...headers } });

    it('issues an RFC 9068 token to a client that authenticates by HTTP Basic', async () => {
      const answer = await tokenRequest(
        'grant_type=client_credentials',
        basic(deployer.clientId, deployer.secret),
      );
      expect(answer.status).toBe(200);
      expectUncacheable(answer);
      expect(answer.json).toEqual({
        access_token: expect.any(String),
        token_type: 'Bearer',
        expires_in: 600,
        scope: 'deployer viewer',
      });

      const header = decodeProtectedHeader(answer.json.access_token);
      expect(header).toMatchObject({ alg: 'EdDSA', typ: 'at+jwt', kid: expect.any(String) });
      const claims = decodeJwt(answer.json.access_token);
      expect(claims).toMatchObject({
        iss: scheduler.publicUrl,
        aud: `${scheduler.publicUrl}/v1`,
        sub: 'deploy-bot',
        client_id: 'deploy-bot',
        roles: ['deployer', 'viewer'],
      });
      expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(600);
      expect(claims.jti).toEqual(expect.any(String));
    });

    it('issues a token to a client that sends its credentials in the body', async () => {
      const form = new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: deployer.clientId,
        client_secret: deployer.secret,
      });
      const answer = await tokenRequest(form.toString());
      expect(answer.status).toBe(200);
      expect(decodeJwt(answer.json.access_token).sub).toBe(deployer.clientId);
    });

    it('refuses credentials sent both by Basic and in the body with invalid_request', async () => {
      const form = new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: deployer.clientId,
        client_secret: deployer.secret,
      });
      const answer = await tokenRequest(form.toString(), basic(deployer.clientId, deployer.secret));
      expect(answer.status).toBe(400);
      expect(answer.json.error).toBe('invalid_request');
      expectUncacheable(answer);
    });

    it('requires grant_type', async () => {
      const answer = await tokenRequest('scope=viewer', basic(deployer.clientId, deployer.secret));
      expect(answer.status).toBe(400);
      expect(answer.json).toEqual({
        error: 'invalid_request',
        error_description: expect.stringContaining('grant_type'),
      });
      expectUncacheable(answer);
    });

    it('refuses any grant type but client_credentials with unsupported_grant_type', async () => {
      const answer = await tokenRequest(
        'grant_type=password&username=a&password=b',
        basic(deployer.clientId, deployer.secret),
      );
      expect(answer.status).toBe(400);
      expect(answer.json.error).toBe('unsupported_grant_type');
    });

    it('refuses a parameter given twice with invalid_request', async () => {
      const answer = await tokenRequest(
        'grant_type=client_credentials&scope=viewer&scope=deployer',
        basic(deployer.clientId, deployer.secret),
      );
      expect(answer.status).toBe(400);
      expect(answer.json.error).toBe('invalid_request');
      expect(answer.json.error_description).toContain("'scope'");
    });

    it('ignores parameters it does not know, as RFC 6749 section 3.2 asks', async () => {
      const answer = await tokenRequest(
        'grant_type=client_credentials&resource=https%3A%2F%2Felsewhere',
        basic(deployer.clientId, deployer.secret),
      );
      expect(answer.status).toBe(200);
    });

    it('refuses a wrong secret with 401 invalid_client and a Basic challenge', async () => {
      const answer = await tokenRequest(
        'grant_type=client_credentials',
        basic(deployer.clientId, 'ss_not-the-secret'),
      );
      expect(answer.status).toBe(401);
      expect(answer.json.error).toBe('invalid_client');
      expect(answer.headers.get('www-authenticate')).toBe('Basic realm="sluice"');
      expectUncacheable(answer);
      expect(answer.text).not.toContain('ss_not-the-secret');
    });

    it('refuses an unknown client and a request without credentials the same way', async () => {
      const unknown = await tokenRequest('grant_type=client_credentials', basic('nobody', 'x'));
      expect(unknown.status).toBe(401);
      expect(unknown.json.error).toBe('invalid_client');

      const anonymous = await tokenRequest('grant_type=client_credentials');
      expect(anonymous.status).toBe(401);
      expect(anonymous.json.error).toBe('invalid_client');
      expect(anonymous.headers.get('www-authenticate')).toBe('Basic realm="sluice"');
    });

    it('narrows the token to the roles the scope asks for', async () => {
      const answer = await tokenRequest(
        'grant_type=client_credentials&scope=viewer',
        basic(deployer.clientId, deployer.secret),
      );
      expect(answer.status).toBe(200);
      expect(answer.json.scope).toBe('viewer');
      expect(decodeJwt(answer.json.access_token).roles).toEqual(['viewer']);

      const environments = await callApi(scheduler, '/v1/environments', {
        token: answer.json.access_token,
      });
      expect(environments.status).toBe(200);
    });

    it('refuses a scope beyond the client roles with invalid_scope', async () => {
      const notHeld = await tokenRequest(
        'grant_type=client_credentials&scope=viewer%20admin',
        basic(deployer.clientId, deployer.secret),
      );
      expect(notHeld.status).toBe(400);
      expect(notHeld.json.error).toBe('invalid_scope');
      expect(notHeld.json.error_description).toContain("'admin'");

      const unknown = await tokenRequest(
        'grant_type=client_credentials&scope=superuser',
        basic(deployer.clientId, deployer.secret),
      );
      expect(unknown.json.error).toBe('invalid_scope');
      expect(unknown.text).not.toContain('superuser');
    });

    it('refuses a JSON body with 415 in the OAuth error format', async () => {
      const answer = await callApi(scheduler, '/oauth/token', {
        json: { grant_type: 'client_credentials' },
        headers: basic(deployer.clientId, deployer.secret),
      });
      expect(answer.status).toBe(415);
      expect(answer.json.error).toBe('invalid_request');
      expectUncacheable(answer);
    });

    it('refuses a revoked client', async () => {
      const doomed = await createTestClient(scheduler, 'doomed-bot', ['viewer']);
      const revoked = await callApi(scheduler, '/v1/clients/doomed-bot/revoke', {
        token: await scheduler.tokenFor(scheduler.admin.clientId, scheduler.admin.secret),
        json: {},
      });
      expect(revoked.status).toBe(200);

      const answer = await tokenRequest(
        'grant_type=client_credentials',
        basic(doomed.clientId, doomed.secret),
      );
      expect(answer.status).toBe(401);
      expect(answer.json.error).toBe('invalid_client');
    });

    it('logs refusals at warn with client id and reason, successes at debug with jti', async () => {
      await tokenRequest('grant_type=client_credentials', basic(deployer.clientId, 'ss_wrong'));
      const token = await scheduler.tokenFor(deployer.clientId, deployer.secret);

      const lines = scheduler.logs.map((line) => JSON.parse(line));
      expect(lines).toContainEqual(
        expect.objectContaining({ level: 40, client_id: 'deploy-bot', reason: 'invalid_client' }),
      );
      expect(lines).toContainEqual(
        expect.objectContaining({ level: 20, client_id: 'deploy-bot', jti: decodeJwt(token).jti }),
      );
      expect(scheduler.logs.join('\n')).not.toContain(deployer.secret);
      expect(scheduler.logs.join('\n')).not.toContain(token);
    });
  });

  describe.skipIf(backend.skipReason !== '')(`token rate limits on ${backend.name}`, () => {
    let scheduler: TestScheduler;

    beforeAll(async () => {
      scheduler = await startTestScheduler(backend, {
        tokenRateLimit: { capacity: 3, refillPerSec: 0.001 },
      });
    });

    afterAll(async () => {
      await scheduler?.close();
    });

    it('answers 429 with Retry-After once an address has used up its token requests', async () => {
      const statuses: number[] = [];
      let last: ApiAnswer | undefined;
      for (let attempt = 0; attempt < 4; attempt++) {
        last = await callApi(scheduler, '/oauth/token', {
          body: 'grant_type=client_credentials',
          headers: { ...FORM, ...basic(scheduler.admin.clientId, scheduler.admin.secret) },
        });
        statuses.push(last.status);
      }

      expect(statuses).toEqual([200, 200, 200, 429]);
      expect(last?.json.error).toBe('rate_limited');
      expect(Number(last?.headers.get('retry-after'))).toBeGreaterThan(0);
      expectUncacheable(last as ApiAnswer);
    });
  });
}

describe('failed attempts', () => {
  it('blocks a key once its failures exceed the allowance, until a token is back', () => {
    const failures = new FailedAttempts({ capacity: 2, refillPerSec: 0.5 });
    const key = '127.0.0.1 ci';

    failures.record(key, 0);
    failures.record(key, 0);
    expect(failures.check(key, 0)).toEqual({ isAllowed: true });

    failures.record(key, 0);
    expect(failures.check(key, 1000)).toEqual({ isAllowed: false, retryAfterSec: 1 });
    expect(failures.check('127.0.0.1 other', 1000)).toEqual({ isAllowed: true });
    expect(failures.check(key, 2000)).toEqual({ isAllowed: true });
  });

  it('keeps at most the given number of blocked keys', () => {
    const failures = new FailedAttempts({ capacity: 1, refillPerSec: 0.001 }, 2);
    for (const key of ['a', 'b', 'c']) {
      failures.record(key, 0);
      failures.record(key, 0);
    }

    expect(failures.check('a', 1).isAllowed).toBe(true);
    expect(failures.check('b', 1).isAllowed).toBe(false);
    expect(failures.check('c', 1).isAllowed).toBe(false);
  });
});
