import {
  base64url,
  decodeJwt,
  decodeProtectedHeader,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JWTPayload,
  SignJWT,
  UnsecuredJWT,
} from 'jose';
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPrivateSigningKey } from '../../../src/state/signing-key-store.js';
import { startTestScheduler, type TestScheduler } from '../../helpers/scheduler-service.js';
import { stateBackendsUnderTest } from '../../helpers/state-backends.js';

/**
 * The Scheduler's security over real HTTP on loopback: forged and stale tokens, roles, a real
 * OAuth client library, brute force on the token endpoint, revocation seen by a second
 * Scheduler, and a search of every log line and error body for secrets and tokens.
 */

type Answer = { readonly status: number; readonly headers: Headers; readonly text: string };

for (const backend of stateBackendsUnderTest()) {
  describe.skipIf(backend.skipReason !== '')(`scheduler security on ${backend.name}`, () => {
    let scheduler: TestScheduler;
    let adminToken: string;
    /** Every error body the service answered, for the final search. */
    const errorBodies: string[] = [];
    /** Every secret and token handed out, which must appear in no log line or error body. */
    const secrets: string[] = [];

    async function call(path: string, init: RequestInit = {}): Promise<Answer> {
      const response = await fetch(new URL(path, scheduler.url), init);
      const answer = {
        status: response.status,
        headers: response.headers,
        text: await response.text(),
      };
      if (answer.status >= 400) errorBodies.push(answer.text);
      return answer;
    }

    function bearer(token: string): RequestInit {
      return { headers: { authorization: `Bearer ${token}` } };
    }

    async function createClient(clientId: string, roles: string[]) {
      const answer = await call('/v1/clients', {
        method: 'POST',
        headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ client_id: clientId, roles }),
      });
      expect(answer.status).toBe(201);
      const secret = JSON.parse(answer.text).client_secret as string;
      secrets.push(secret);
      const token = await scheduler.tokenFor(clientId, secret);
      secrets.push(token);
      return { clientId, secret, token };
    }

    /** Claims of a well-formed token for the admin client, to be altered one at a time. */
    function adminClaims(): JWTPayload {
      const claims = decodeJwt(adminToken);
      return { ...claims, jti: `forged-${Math.random()}` };
    }

    /** Signs claims with the Scheduler's own current key: only the altered part is wrong. */
    async function signWithServiceKey(claims: JWTPayload, typ = 'at+jwt'): Promise<string> {
      const { kid } = decodeProtectedHeader(adminToken);
      const jwk = await readPrivateSigningKey(scheduler.store, String(kid));
      const key = await importJWK(jwk as Parameters<typeof importJWK>[0], 'EdDSA');
      return new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', typ, kid }).sign(key);
    }

    async function expectRejected(token: string, reason: RegExp) {
      const answer = await call('/v1/clients', bearer(token));
      expect(answer.status).toBe(401);
      expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer /);
      expect(JSON.parse(answer.text).error.message).toMatch(reason);
    }

    beforeAll(async () => {
      // Many token requests come from one address here; the per-address limit is raised so that
      // the brute-force test meets the per-client limit on failed attempts, which it is about.
      scheduler = await startTestScheduler(backend, {
        tokenRateLimit: { capacity: 500, refillPerSec: 100 },
      });
      secrets.push(scheduler.admin.secret);
      adminToken = await scheduler.tokenFor(scheduler.admin.clientId, scheduler.admin.secret);
      secrets.push(adminToken);
    });

    afterAll(async () => {
      await scheduler?.close();
    });

    it('accepts the admin token it issued', async () => {
      const answer = await call('/v1/clients', bearer(adminToken));
      expect(answer.status).toBe(200);
      expect(
        JSON.parse(answer.text).clients.map((client: { client_id: string }) => client.client_id),
      ).toContain(scheduler.admin.clientId);
    });

    it('rejects a request without a token, and one with another scheme', async () => {
      expect((await call('/v1/clients')).status).toBe(401);
      const basic = { headers: { authorization: `Basic ${btoa('admin:x')}` } };
      expect((await call('/v1/clients', basic)).status).toBe(401);
    });

    it('rejects an expired token', async () => {
      const nowSec = Math.floor(Date.now() / 1000);
      await expectRejected(
        await signWithServiceKey({ ...adminClaims(), iat: nowSec - 7200, exp: nowSec - 3600 }),
        /expired/i,
      );
    });

    it('rejects an unsigned token (alg none)', async () => {
      const { typ: _typ, ...claims } = adminClaims();
      const unsigned = new UnsecuredJWT(claims).encode();
      await expectRejected(unsigned, /./);
    });

    it("rejects a token signed with a key that is not the Scheduler's", async () => {
      const { privateKey } = await generateKeyPair('EdDSA');
      const { kid } = decodeProtectedHeader(adminToken);
      const forged = await new SignJWT(adminClaims())
        .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid })
        .sign(privateKey);
      await expectRejected(forged, /signature/i);
    });

    it('rejects a token signed with an unknown key id', async () => {
      const { privateKey } = await generateKeyPair('EdDSA');
      const forged = await new SignJWT(adminClaims())
        .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: 'not-a-known-key' })
        .sign(privateKey);
      await expectRejected(forged, /./);
    });

    it('rejects an HMAC token keyed with the published public key', async () => {
      const { kid } = decodeProtectedHeader(adminToken);
      const jwks = JSON.parse((await call('/.well-known/jwks.json')).text);
      const published = jwks.keys.find((key: { kid: string }) => key.kid === kid);
      for (const secret of [
        new TextEncoder().encode(JSON.stringify(published)),
        base64url.decode(published.x),
      ]) {
        const forged = await new SignJWT(adminClaims())
          .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid })
          .sign(secret);
        await expectRejected(forged, /./);
      }
    });

    it('rejects a token of the wrong type', async () => {
      await expectRejected(await signWithServiceKey(adminClaims(), 'JWT'), /typ/i);
    });

    it('rejects a token for another audience or from another issuer', async () => {
      await expectRejected(
        await signWithServiceKey({ ...adminClaims(), aud: 'https://elsewhere.example/v1' }),
        /aud/i,
      );
      await expectRejected(
        await signWithServiceKey({ ...adminClaims(), iss: 'https://elsewhere.example' }),
        /iss/i,
      );
    });

    it('rejects a token that claims a role its signature does not cover', async () => {
      const viewer = await createClient('claims-viewer', ['viewer']);
      const [header, , signature] = viewer.token.split('.');
      const raised = base64url.encode(
        JSON.stringify({ ...decodeJwt(viewer.token), roles: ['admin'], scope: 'admin' }),
      );
      await expectRejected(`${header}.${raised}.${signature}`, /signature/i);
    });

    it('answers 403 to a viewer calling an admin endpoint, naming the permission', async () => {
      const viewer = await createClient('plain-viewer', ['viewer']);
      const answer = await call('/v1/clients', bearer(viewer.token));
      expect(answer.status).toBe(403);
      expect(JSON.parse(answer.text).error.message).toMatch(/clients:manage/);
      expect((await call('/v1/audit-log', bearer(viewer.token))).status).toBe(403);
      expect((await call('/v1/environments', bearer(viewer.token))).status).toBe(200);
    });

    it('ends the tokens of a revoked client', async () => {
      const doomed = await createClient('doomed', ['viewer']);
      expect((await call('/v1/environments', bearer(doomed.token))).status).toBe(200);

      const revoke = await call('/v1/clients/doomed/revoke', {
        method: 'POST',
        headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
        body: '{}',
      });
      expect(revoke.status).toBe(200);

      const after = await call('/v1/environments', bearer(doomed.token));
      expect(after.status).toBe(401);
      expect(JSON.parse(after.text).error.message).toMatch(/revoked/i);
      const token = await tokenAnswer(scheduler.url, 'doomed', doomed.secret);
      expect(token.status).toBe(401);
    });

    it('lets a real OAuth library discover the server, get a token and call the API', async () => {
      const viewer = await createClient('library-viewer', ['viewer']);
      const issuer = new URL(scheduler.url);
      const options = { [oauth.allowInsecureRequests]: true };

      const discovery = await oauth.discoveryRequest(issuer, { ...options, algorithm: 'oauth2' });
      const server = await oauth.processDiscoveryResponse(issuer, discovery);
      expect(server.token_endpoint).toBe(new URL('/oauth/token', scheduler.url).href);

      const client: oauth.Client = { client_id: viewer.clientId };
      const response = await oauth.clientCredentialsGrantRequest(
        server,
        client,
        oauth.ClientSecretBasic(viewer.secret),
        new URLSearchParams(),
        options,
      );
      const grant = await oauth.processClientCredentialsResponse(server, client, response);
      secrets.push(grant.access_token);
      expect(grant.token_type).toBe('bearer');

      const api = await oauth.protectedResourceRequest(
        grant.access_token,
        'GET',
        new URL('/v1/environments', scheduler.url),
        new Headers(),
        null,
        options,
      );
      expect(api.status).toBe(200);
      expect(await api.json()).toHaveProperty('environments');
    });

    it('publishes the token signing keys without their private parts', async () => {
      const jwks = JSON.parse((await call('/.well-known/jwks.json')).text);
      expect(jwks.keys.length).toBeGreaterThan(0);
      for (const key of jwks.keys) {
        expect(key).not.toHaveProperty('d');
        expect(key.use).toBe('sig');
      }
      const { kid } = decodeProtectedHeader(adminToken);
      const published = jwks.keys.find((key: { kid: string }) => key.kid === kid);
      await expect(exportJWK(await importJWK(published, 'EdDSA'))).resolves.toMatchObject({
        x: published.x,
      });
    });

    it('slows brute force on the token endpoint with its rate limit', async () => {
      const target = await createClient('brute-target', ['viewer']);
      const statuses: number[] = [];
      for (let attempt = 0; attempt < 25; attempt++) {
        const answer = await tokenAnswer(scheduler.url, target.clientId, `ss_wrong${attempt}`);
        statuses.push(answer.status);
        if (answer.status === 429) {
          expect(Number(answer.headers.get('retry-after'))).toBeGreaterThan(0);
          expect(answer.headers.get('cache-control')).toBe('no-store');
        }
      }
      const rejected = statuses.filter((status) => status === 401).length;
      expect(rejected).toBeLessThanOrEqual(10);
      expect(statuses.slice(-5)).toEqual([429, 429, 429, 429, 429]);
    });

    it('writes no secret or token into any log line or error body', async () => {
      const wrongSecret = 'ss_this-secret-is-wrong-and-must-not-be-logged';
      secrets.push(wrongSecret);
      await tokenAnswer(scheduler.url, scheduler.admin.clientId, wrongSecret);
      await call('/v1/clients', bearer(`${adminToken}tampered`));

      expect(scheduler.logs.length).toBeGreaterThan(0);
      expect(errorBodies.length).toBeGreaterThan(0);
      const haystacks = [...scheduler.logs, ...errorBodies];
      for (const secret of secrets) {
        const forms = [secret, encodeURIComponent(secret), Buffer.from(secret).toString('base64')];
        // A JWT's parts are searched on their own as well: its signature alone is a secret.
        if (secret.split('.').length === 3) forms.push(...secret.split('.').slice(1));
        for (const form of forms) {
          const found = haystacks.find((text) => text.includes(form));
          expect(found, 'a secret or token was written out').toBeUndefined();
        }
      }
    });
  });
}

describe.skipIf(stateBackendsUnderTest()[1]?.skipReason !== '')(
  'revocation across two Schedulers on one PostgreSQL state database',
  () => {
    it('a client revoked via one Scheduler is refused by the other within seconds', async () => {
      const postgres = stateBackendsUnderTest().find((backend) => backend.name === 'postgres');
      if (postgres === undefined) throw new Error('the PostgreSQL backend is not listed');
      // One public URL for both, as replicas behind one address have: each accepts the other's
      // tokens, so a refusal by the second can only come from the revocation.
      const publicUrl = 'https://scheduler.sluice.test';
      const first = await startTestScheduler(postgres, { publicUrl });
      const second = await startTestScheduler(postgres, { publicUrl }, first);
      try {
        const firstAdmin = await first.tokenFor(first.admin.clientId, first.admin.secret);
        const created = await fetch(new URL('/v1/clients', first.url), {
          method: 'POST',
          headers: { authorization: `Bearer ${firstAdmin}`, 'content-type': 'application/json' },
          body: JSON.stringify({ client_id: 'shared-viewer', roles: ['viewer'] }),
        });
        const secret = ((await created.json()) as { client_secret: string }).client_secret;
        const token = await first.tokenFor('shared-viewer', secret);
        const onSecond = () =>
          fetch(new URL('/v1/environments', second.url), bearer(token)).then((r) => r.status);
        expect(await onSecond()).toBe(200);

        await fetch(new URL('/v1/clients/shared-viewer/revoke', first.url), {
          method: 'POST',
          headers: { authorization: `Bearer ${firstAdmin}`, 'content-type': 'application/json' },
          body: '{}',
        });
        expect(await eventually(onSecond, 401, 10_000)).toBe(401);
      } finally {
        await second.close();
        await first.close();
      }
    });
  },
);

function bearer(token: string): RequestInit {
  return { headers: { authorization: `Bearer ${token}` } };
}

/** Polls `probe` until it returns `wanted` or the deadline passes; returns the last value. */
async function eventually<T>(probe: () => Promise<T>, wanted: T, deadlineMs: number): Promise<T> {
  const giveUpAt = Date.now() + deadlineMs;
  let value = await probe();
  while (value !== wanted && Date.now() < giveUpAt) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    value = await probe();
  }
  return value;
}

async function tokenAnswer(baseUrl: string, clientId: string, secret: string): Promise<Answer> {
  const credentials = `${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`;
  const response = await fetch(new URL('/oauth/token', baseUrl), {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(credentials).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: 'grant_type=client_credentials',
  });
  return { status: response.status, headers: response.headers, text: await response.text() };
}
