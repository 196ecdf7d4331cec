import { decodeProtectedHeader } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { RevocationList } from '../../../src/scheduler/auth/revocation-list.js';
import { SigningKeys } from '../../../src/scheduler/auth/signing-keys.js';
import { issueAccessToken, type TokenSettings } from '../../../src/scheduler/auth/token-issuer.js';
import { TokenVerifier } from '../../../src/scheduler/auth/token-verifier.js';
import { readAuditEntries } from '../../../src/state/audit-log.js';
import { openStateStore } from '../../../src/state/open-state-store.js';
import { listSigningKeys } from '../../../src/state/signing-key-store.js';
import type { StateStore } from '../../../src/state/state-store.js';
import { manualClock } from '../../helpers/manual-clock.js';
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
const DAY_MS = 24 * 3600 * 1000;

for (const backend of stateBackendsUnderTest()) {
  describe.skipIf(backend.skipReason !== '')(`signing keys on ${backend.name}`, () => {
    let test: TestStateLocation | undefined;
    let store: StateStore | undefined;
    const lists: RevocationList[] = [];

    async function openFresh(): Promise<StateStore> {
      test = await backend.create();
      store = await openStateStore({ location: test.location, keyRing: ring, shouldMigrate: true });
      return store;
    }

    async function verifierFor(keys: SigningKeys, on: StateStore): Promise<TokenVerifier> {
      const revocations = await RevocationList.open(on);
      lists.push(revocations);
      return new TokenVerifier(keys, revocations, SETTINGS);
    }

    afterEach(async () => {
      for (const list of lists.splice(0)) list.close();
      await store?.close();
      await test?.cleanup();
      store = undefined;
      test = undefined;
    });

    it('makes the first key on open, audits it, and reuses it on the next open', async () => {
      const store = await openFresh();

      const first = await SigningKeys.open(store);
      const second = await SigningKeys.open(store);

      const stored = await listSigningKeys(store);
      const entries = await readAuditEntries(store, { limit: 10 });
      expect(stored).toHaveLength(1);
      expect((await first.signingKey()).kid).toBe(stored[0]?.kid);
      expect((await second.signingKey()).kid).toBe(stored[0]?.kid);
      expect(entries.map((entry) => [entry.action, entry.subject])).toEqual([
        ['signing_key.rotated', stored[0]?.kid],
      ]);
      expect(entries[0]?.details).toMatchObject({ reason: 'first key', retiredKids: [] });
    });

    it('publishes only the public members of each key in the JWKS', async () => {
      const store = await openFresh();
      const keys = await SigningKeys.open(store);
      const { kid } = await keys.signingKey();

      const jwks = await keys.jwks();

      expect(jwks.keys).toEqual([
        { kty: 'OKP', crv: 'Ed25519', x: expect.any(String), kid, alg: 'EdDSA', use: 'sig' },
      ]);
      expect(JSON.stringify(jwks)).not.toContain('"d"');
    });

    it('rotates to a new key while tokens signed by the old key still verify', async () => {
      const store = await openFresh();
      const keys = await SigningKeys.open(store);
      const verifier = await verifierFor(keys, store);
      const before = await issueAccessToken(keys, SETTINGS, { clientId: 'svc', roles: ['viewer'] });
      const oldKid = decodeProtectedHeader(before.access_token).kid;

      const newKid = await keys.rotate('alice');
      const after = await issueAccessToken(keys, SETTINGS, { clientId: 'svc', roles: ['viewer'] });

      expect(newKid).not.toBe(oldKid);
      expect(decodeProtectedHeader(after.access_token).kid).toBe(newKid);
      expect((await verifier.verify(before.access_token)).clientId).toBe('svc');
      expect((await verifier.verify(after.access_token)).clientId).toBe('svc');
      expect((await keys.jwks()).keys.map((key) => key.kid)).toEqual([newKid, oldKid]);
      const last = (await readAuditEntries(store, { limit: 10 })).at(-1);
      expect(last).toMatchObject({
        actor: 'alice',
        action: 'signing_key.rotated',
        subject: newKid,
        details: { reason: 'requested', retiredKids: [oldKid] },
      });
    });

    it('lets a second instance on one store find a key the first one made, by kid', async () => {
      const store = await openFresh();
      const clock = manualClock();
      const replicaA = await SigningKeys.open(store, { clock: clock.now });
      const replicaB = await SigningKeys.open(store, { clock: clock.now });
      const verifierB = await verifierFor(replicaB, store);

      const newKid = await replicaA.rotate('alice');
      const token = await issueAccessToken(replicaA, SETTINGS, {
        clientId: 'svc',
        roles: ['viewer'],
      });
      clock.advance(1000);

      expect(await replicaB.publicKeyFor(newKid)).toBeDefined();
      expect((await verifierB.verify(token.access_token)).clientId).toBe('svc');
    });

    it('reads the store for an unknown kid at most once per refresh interval', async () => {
      const store = await openFresh();
      const clock = manualClock();
      const replicaA = await SigningKeys.open(store, { clock: clock.now });
      const replicaB = await SigningKeys.open(store, {
        clock: clock.now,
        refreshMinIntervalMs: 5000,
      });

      const newKid = await replicaA.rotate('alice');

      expect(await replicaB.publicKeyFor(newKid)).toBeUndefined();
      clock.advance(4999);
      expect(await replicaB.publicKeyFor(newKid)).toBeUndefined();
      clock.advance(1);
      expect(await replicaB.publicKeyFor(newKid)).toBeDefined();
    });

    it('moves another instance to the newest key when it next re-reads the key set', async () => {
      const store = await openFresh();
      const clock = manualClock();
      const replicaA = await SigningKeys.open(store, { clock: clock.now });
      const replicaB = await SigningKeys.open(store, { clock: clock.now });
      const oldKid = (await replicaB.signingKey()).kid;

      const newKid = await replicaA.rotate('alice');

      expect((await replicaB.signingKey()).kid).toBe(oldKid);
      clock.advance(60_000);
      expect((await replicaB.signingKey()).kid).toBe(newKid);
    });

    it('rotates on its own once the active key is older than rotateAfterMs', async () => {
      const store = await openFresh();
      const clock = manualClock();
      const keys = await SigningKeys.open(store, { clock: clock.now, rotateAfterMs: 30 * DAY_MS });
      const firstKid = (await keys.signingKey()).kid;

      clock.advance(30 * DAY_MS - 1);
      const stillFirst = (await keys.signingKey()).kid;
      clock.advance(1);
      const [a, b] = await Promise.all([keys.signingKey(), keys.signingKey()]);

      expect(stillFirst).toBe(firstKid);
      expect(a.kid).not.toBe(firstKid);
      expect(b.kid).toBe(a.kid);
      expect(await listSigningKeys(store)).toHaveLength(2);
      const last = (await readAuditEntries(store, { limit: 10 })).at(-1);
      expect(last).toMatchObject({ actor: 'scheduler', details: { reason: 'scheduled' } });
    });

    it('refuses a retired key after its retention and deletes it at next rotation', async () => {
      const store = await openFresh();
      const clock = manualClock();
      const keys = await SigningKeys.open(store, {
        clock: clock.now,
        retainAfterRetireMs: 3600_000,
      });
      const oldKid = (await keys.signingKey()).kid;
      const middleKid = await keys.rotate('alice');

      clock.advance(3600_000 - 1);
      const withinRetention = await keys.publicKeyFor(oldKid);
      clock.advance(1);
      const afterRetention = await keys.publicKeyFor(oldKid);
      const published = (await keys.jwks()).keys.map((key) => key.kid);
      clock.advance(1);
      const newestKid = await keys.rotate('alice');

      expect(withinRetention).toBeDefined();
      expect(afterRetention).toBeUndefined();
      expect(published).toEqual([middleKid]);
      expect((await listSigningKeys(store)).map((key) => key.kid)).toEqual([newestKid, middleKid]);
    });
  });
}
