import {
  decodeJwt,
  decodeProtectedHeader,
  exportJWK,
  generateKeyPair,
  type JWTPayload,
  SignJWT,
  UnsecuredJWT,
} from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SluiceError } from '../../../src/core/errors.js';
import { createClient, revokeClientAccess } from '../../../src/scheduler/auth/client-registry.js';
import { RevocationList } from '../../../src/scheduler/auth/revocation-list.js';
import { SigningKeys } from '../../../src/scheduler/auth/signing-keys.js';
import { issueAccessToken, type TokenSettings } from '../../../src/scheduler/auth/token-issuer.js';
import { TokenVerifier } from '../../../src/scheduler/auth/token-verifier.js';
import { openStateStore } from '../../../src/state/open-state-store.js';
import type { StateStore } from '../../../src/state/state-store.js';
import { errorOf } from '../../helpers/errors.js';
import {
  stateBackendsUnderTest,
  type TestStateLocation,
  testKeyRing,
  testStateKey,
} from '../../helpers/state-backends.js';

const ring = testKeyRing(testStateKey('k1'));
const SETTINGS: TokenSettings = {
  issuer: 'https://scheduler.test',
  audience: 'sluice',
  ttlSec: 600,
};

for (const backend of stateBackendsUnderTest()) {
  describe.skipIf(backend.skipReason !== '')(`access tokens on ${backend.name}`, () => {
    let test: TestStateLocation;
    let store: StateStore;
    let keys: SigningKeys;
    let revocations: RevocationList;
    let verifier: TokenVerifier;

    beforeEach(async () => {
      test = await backend.create();
      store = await openStateStore({ location: test.location, keyRing: ring, shouldMigrate: true });
      keys = await SigningKeys.open(store);
      revocations = await RevocationList.open(store, { refreshIntervalMs: 3_600_000 });
      verifier = new TokenVerifier(keys, revocations, SETTINGS);
    });

    afterEach(async () => {
      revocations.close();
      await store.close();
      await test.cleanup();
    });

    /** Claims as the issuer writes them, for tokens crafted by hand. */
    function goodClaims(overrides: JWTPayload = {}): JWTPayload {
      const nowSec = Math.floor(Date.now() / 1000);
      return {
        iss: SETTINGS.issuer,
        aud: SETTINGS.audience,
        sub: 'svc',
        client_id: 'svc',
        roles: ['viewer'],
        iat: nowSec,
        exp: nowSec + 600,
        jti: 'token-1',
        ...overrides,
      };
    }

    /** Signs claims with the Scheduler's active key and the given header fields. */
    async function signWithActiveKey(claims: JWTPayload, typ = 'at+jwt'): Promise<string> {
      const { kid, key } = await keys.signingKey();
      return new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', typ, kid }).sign(key);
    }

    /** The auth_invalid error for a token, checking that its message does not quote the token. */
    async function rejectionOf(token: string): Promise<SluiceError> {
      const error = await errorOf(verifier.verify(token));
      expect(error.code).toBe('auth_invalid');
      if (token.length > 0) expect(error.message).not.toContain(token);
      for (const part of token.split('.').filter((part) => part.length > 8)) {
        expect(error.message).not.toContain(part);
      }
      return error;
    }

    it('issues an RFC 9068 token that verifies as the client with its roles', async () => {
      const response = await issueAccessToken(keys, SETTINGS, {
        clientId: 'svc',
        roles: ['deployer', 'viewer'],
      });

      const principal = await verifier.verify(response.access_token);

      const header = decodeProtectedHeader(response.access_token);
      const claims = decodeJwt(response.access_token);
      expect(response).toMatchObject({
        token_type: 'Bearer',
        expires_in: 600,
        scope: 'deployer viewer',
      });
      expect(header).toEqual({ alg: 'EdDSA', typ: 'at+jwt', kid: (await keys.signingKey()).kid });
      expect(claims).toMatchObject({
        iss: SETTINGS.issuer,
        aud: SETTINGS.audience,
        sub: 'svc',
        client_id: 'svc',
        roles: ['deployer', 'viewer'],
        scope: 'deployer viewer',
      });
      expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(600);
      expect(principal).toEqual({
        clientId: 'svc',
        roles: ['deployer', 'viewer'],
        tokenId: claims.jti,
        expiresAtSec: claims.exp,
      });
    });

    it('gives every token its own jti', async () => {
      const client = { clientId: 'svc', roles: ['viewer'] as const };
      const first = await issueAccessToken(keys, SETTINGS, client);
      const second = await issueAccessToken(keys, SETTINGS, client);

      expect(decodeJwt(first.access_token).jti).not.toBe(decodeJwt(second.access_token).jti);
    });

    it('accepts a token crafted with every required claim and the active key', async () => {
      const principal = await verifier.verify(await signWithActiveKey(goodClaims()));

      expect(principal.clientId).toBe('svc');
    });

    it('rejects text that is not a JWT', async () => {
      for (const token of ['', 'abc', 'a.b.c', 'a.b', 'a.b.c.d']) {
        const error = await rejectionOf(token);
        expect(error.message).toContain('well-formed');
      }
    });

    it('rejects a token whose header names no key', async () => {
      const header = Buffer.from('{"alg":"EdDSA","typ":"at+jwt"}').toString('base64url');
      const headerOnly = `${header}.e30.`;

      const error = await rejectionOf(headerOnly);

      expect(error.message).toContain('current key');
    });

    it("rejects an unsigned token with alg 'none'", async () => {
      const token = new UnsecuredJWT(goodClaims()).encode();

      const error = await rejectionOf(token);

      expect(error.message).toContain('EdDSA');
    });

    it('rejects an HMAC signed with the public key as its secret', async () => {
      const { kid } = await keys.signingKey();
      const publicJwk = (await keys.jwks()).keys[0];
      const secrets = [
        new TextEncoder().encode(JSON.stringify(publicJwk)),
        Buffer.from(String(publicJwk?.x), 'base64url'),
      ];

      for (const secret of secrets) {
        const token = await new SignJWT(goodClaims())
          .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid })
          .sign(secret);
        const error = await rejectionOf(token);
        expect(error.message).toContain('EdDSA');
      }
    });

    it('rejects a token signed by a key the Scheduler lacks, under its own kid', async () => {
      const { kid } = await keys.signingKey();
      const { privateKey } = await generateKeyPair('EdDSA');
      const token = await new SignJWT(goodClaims())
        .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid })
        .sign(privateKey);

      const error = await rejectionOf(token);

      expect(error.message).toContain('signature');
    });

    it('rejects a token signed by a key the Scheduler lacks, under an unknown kid', async () => {
      const { publicKey, privateKey } = await generateKeyPair('EdDSA', { extractable: true });
      const strangerKid = `stranger-${String((await exportJWK(publicKey)).x).slice(0, 8)}`;
      const token = await new SignJWT(goodClaims())
        .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: strangerKid })
        .sign(privateKey);

      const error = await rejectionOf(token);

      expect(error.message).toContain('current key');
    });

    it("rejects a token whose typ is 'JWT' rather than 'at+jwt'", async () => {
      const error = await rejectionOf(await signWithActiveKey(goodClaims(), 'JWT'));

      expect(error.message).toContain('typ');
    });

    it('rejects a token with no typ header', async () => {
      const { kid, key } = await keys.signingKey();
      const token = await new SignJWT(goodClaims())
        .setProtectedHeader({ alg: 'EdDSA', kid })
        .sign(key);

      const error = await rejectionOf(token);

      expect(error.message).toContain('typ');
    });

    it('rejects a token for another audience', async () => {
      const token = await issueAccessToken(
        keys,
        { ...SETTINGS, audience: 'another-service' },
        { clientId: 'svc', roles: ['viewer'] },
      );

      const error = await rejectionOf(token.access_token);

      expect(error.message).toContain('aud');
    });

    it('rejects a token from another issuer', async () => {
      const token = await issueAccessToken(
        keys,
        { ...SETTINGS, issuer: 'https://elsewhere.test' },
        { clientId: 'svc', roles: ['viewer'] },
      );

      const error = await rejectionOf(token.access_token);

      expect(error.message).toContain('iss');
    });

    it('rejects an expired token', async () => {
      const twoHoursAgo = new Date(Date.now() - 2 * 3600 * 1000);
      const token = await issueAccessToken(
        keys,
        SETTINGS,
        { clientId: 'svc', roles: ['viewer'] },
        twoHoursAgo,
      );

      const error = await rejectionOf(token.access_token);

      expect(error.message).toContain('expired');
    });

    for (const claim of ['jti', 'sub', 'client_id', 'exp', 'iat']) {
      it(`rejects a token without the ${claim} claim`, async () => {
        const claims = goodClaims();
        delete claims[claim];

        const error = await rejectionOf(await signWithActiveKey(claims));

        expect(error.message).toContain(claim);
      });
    }

    it('rejects a token whose sub is not its client_id', async () => {
      const error = await rejectionOf(await signWithActiveKey(goodClaims({ sub: 'someone-else' })));

      expect(error.message).toContain('client_id');
    });

    it('rejects a token naming a role that does not exist', async () => {
      const error = await rejectionOf(
        await signWithActiveKey(goodClaims({ roles: ['viewer', 'superuser'] })),
      );

      expect(error.message).toContain('roles');
    });

    it('rejects a token whose roles claim is missing or not a list', async () => {
      const withoutRoles = goodClaims();
      delete withoutRoles.roles;

      for (const claims of [withoutRoles, goodClaims({ roles: 'admin' })]) {
        const error = await rejectionOf(await signWithActiveKey(claims));
        expect(error.message).toContain('roles');
      }
    });

    it('rejects the tokens of a revoked client as soon as the revocation is marked', async () => {
      await createClient(store, { clientId: 'svc', roles: ['viewer'], actor: 'admin' });
      const token = await issueAccessToken(keys, SETTINGS, { clientId: 'svc', roles: ['viewer'] });
      await verifier.verify(token.access_token);

      await revokeClientAccess(store, { clientId: 'svc', actor: 'admin' });
      revocations.markRevoked('svc');

      const error = await rejectionOf(token.access_token);
      expect(error.message).toContain('revoked');
    });

    it('accepts a token it verified before until the token expires, then refuses it', async () => {
      let nowMs = Date.now();
      const clock = () => new Date(nowMs);
      const timed = new TokenVerifier(keys, revocations, { ...SETTINGS, clock });
      const token = await issueAccessToken(keys, SETTINGS, { clientId: 'svc', roles: ['viewer'] });

      expect((await timed.verify(token.access_token)).clientId).toBe('svc');
      expect((await timed.verify(token.access_token)).clientId).toBe('svc');

      nowMs += (SETTINGS.ttlSec + 31) * 1000;
      const error = await errorOf(timed.verify(token.access_token));
      expect(error.code).toBe('auth_invalid');
      expect(error.message).toContain('expired');
    });

    it('refuses a token verified before once its key is retired and past retention', async () => {
      let nowMs = Date.now();
      const clock = () => new Date(nowMs);
      const rotating = await SigningKeys.open(store, { clock, retainAfterRetireMs: 60_000 });
      const timed = new TokenVerifier(rotating, revocations, { ...SETTINGS, clock });
      const token = await issueAccessToken(rotating, SETTINGS, {
        clientId: 'svc',
        roles: ['viewer'],
      });
      await timed.verify(token.access_token);

      await rotating.rotate('admin');
      nowMs += 61_000;

      const error = await errorOf(timed.verify(token.access_token));
      expect(error.code).toBe('auth_invalid');
      expect(error.message).toContain('key');
    });

    it('rejects the tokens of a client revoked elsewhere once the list is refreshed', async () => {
      await createClient(store, { clientId: 'svc', roles: ['viewer'], actor: 'admin' });
      const token = await issueAccessToken(keys, SETTINGS, { clientId: 'svc', roles: ['viewer'] });

      await revokeClientAccess(store, { clientId: 'svc', actor: 'admin' });
      await revocations.refresh();

      const error = await rejectionOf(token.access_token);
      expect(error.message).toContain('revoked');
    });
  });
}
