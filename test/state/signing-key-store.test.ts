import { generateKeyPairSync } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { SluiceError } from '../../src/core/errors.js';
import { withNewActiveKey } from '../../src/state/crypto/key-ring.js';
import { openStateStore } from '../../src/state/open-state-store.js';
import { countPayloadsByKey, rekeyState } from '../../src/state/rekey.js';
import {
  deleteSigningKeysRetiredBefore,
  insertSigningKey,
  listSigningKeys,
  readPrivateSigningKey,
  retireSigningKeys,
} from '../../src/state/signing-key-store.js';
import type { StateStore } from '../../src/state/state-store.js';
import type { KeyRing } from '../../src/state/state-types.js';
import { errorOf } from '../helpers/errors.js';
import {
  stateBackendsUnderTest,
  type TestStateLocation,
  testKeyRing,
  testStateKey,
} from '../helpers/state-backends.js';

const k1 = testStateKey('k1');
const ring = testKeyRing(k1);
const T0 = '2026-01-01T00:00:00.000Z';
const T1 = '2026-01-02T00:00:00.000Z';
const T2 = '2026-01-03T00:00:00.000Z';

/** A real Ed25519 key pair as JWKs, as the Scheduler makes them. */
function ed25519Jwks(): {
  publicJwk: Record<string, unknown>;
  privateJwk: Record<string, unknown>;
} {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return {
    publicJwk: publicKey.export({ format: 'jwk' }) as Record<string, unknown>,
    privateJwk: privateKey.export({ format: 'jwk' }) as Record<string, unknown>,
  };
}

function newKey(kid: string, createdAt: string) {
  return { kid, algorithm: 'EdDSA', createdAt, ...ed25519Jwks() };
}

for (const backend of stateBackendsUnderTest()) {
  describe.skipIf(backend.skipReason !== '')(`signing keys on ${backend.name}`, () => {
    let test: TestStateLocation | undefined;
    const stores: StateStore[] = [];

    async function open(keyRing: KeyRing = ring): Promise<StateStore> {
      test ??= await backend.create();
      const store = await openStateStore({ location: test.location, keyRing, shouldMigrate: true });
      stores.push(store);
      return store;
    }

    afterEach(async () => {
      for (const store of stores.splice(0)) await store.close();
      await test?.cleanup();
      test = undefined;
    });

    it('lists the public parts of every key, newest first', async () => {
      const store = await open();
      const older = newKey('kid-a', T0);
      const newer = newKey('kid-b', T1);
      await insertSigningKey(store, older);
      await insertSigningKey(store, newer);

      expect(await listSigningKeys(store)).toEqual([
        {
          kid: 'kid-b',
          algorithm: 'EdDSA',
          publicJwk: newer.publicJwk,
          createdAt: T1,
          retiredAt: null,
        },
        {
          kid: 'kid-a',
          algorithm: 'EdDSA',
          publicJwk: older.publicJwk,
          createdAt: T0,
          retiredAt: null,
        },
      ]);
    });

    it('returns the private key decrypted, and stores it only encrypted', async () => {
      const store = await open();
      const key = newKey('kid-a', T0);
      await insertSigningKey(store, key);

      expect(await readPrivateSigningKey(store, 'kid-a')).toEqual(key.privateJwk);
      const row = await store.db
        .selectFrom('sluice_signing_keys')
        .select('private_jwk')
        .where('kid', '=', 'kid-a')
        .executeTakeFirstOrThrow();
      const stored = row.private_jwk as Buffer;
      expect(Buffer.isBuffer(stored)).toBe(true);
      expect(stored.includes(String(key.privateJwk.d))).toBe(false);
      expect(store.cipher.keyIdOf(stored)).toBe('k1');
    });

    it('refuses a private key moved to another key id', async () => {
      const store = await open();
      await insertSigningKey(store, newKey('kid-a', T0));
      await insertSigningKey(store, newKey('kid-b', T1));
      const moved = await store.db
        .selectFrom('sluice_signing_keys')
        .select('private_jwk')
        .where('kid', '=', 'kid-a')
        .executeTakeFirstOrThrow();

      await store.db
        .updateTable('sluice_signing_keys')
        .set({ private_jwk: moved.private_jwk })
        .where('kid', '=', 'kid-b')
        .execute();

      const error = await errorOf(readPrivateSigningKey(store, 'kid-b'));
      expect(error).toBeInstanceOf(SluiceError);
      expect((error as SluiceError).code).toBe('payload_undecryptable');
    });

    it('says plainly that a key is missing', async () => {
      const store = await open();

      const error = await errorOf(readPrivateSigningKey(store, 'kid-x'));

      expect((error as SluiceError).code).toBe('state_error');
      expect((error as SluiceError).message).toContain("'kid-x'");
    });

    it('retires every other key once, keeping the time it first retired', async () => {
      const store = await open();
      await insertSigningKey(store, newKey('kid-a', T0));
      await insertSigningKey(store, newKey('kid-b', T0));
      await retireSigningKeys(store, 'kid-b', T1);

      await insertSigningKey(store, newKey('kid-c', T1));
      await retireSigningKeys(store, 'kid-c', T2);

      const retired = Object.fromEntries(
        (await listSigningKeys(store)).map((key) => [key.kid, key.retiredAt]),
      );
      expect(retired).toEqual({ 'kid-a': T1, 'kid-b': T2, 'kid-c': null });
    });

    it('deletes only keys retired before the given time', async () => {
      const store = await open();
      await insertSigningKey(store, newKey('kid-a', T0));
      await insertSigningKey(store, newKey('kid-b', T0));
      await retireSigningKeys(store, 'kid-b', T0);
      await insertSigningKey(store, newKey('kid-c', T1));
      await retireSigningKeys(store, 'kid-c', T2);

      expect(await deleteSigningKeysRetiredBefore(store, T1)).toBe(1);
      expect((await listSigningKeys(store)).map((key) => key.kid)).toEqual(['kid-c', 'kid-b']);
      expect(await deleteSigningKeysRetiredBefore(store, T1)).toBe(0);
    });

    it('is rewrapped by rekey, so the private key reads with the new state key alone', async () => {
      const first = await open();
      const key = newKey('kid-a', T0);
      await insertSigningKey(first, key);
      await first.close();

      const k2 = testStateKey('k2');
      const rekeyed = await open(withNewActiveKey(ring, k2));
      await rekeyState(rekeyed);
      expect(await countPayloadsByKey(rekeyed)).not.toHaveProperty('k1');
      await rekeyed.close();

      const onlyNew = await open(testKeyRing(k2));
      expect(await readPrivateSigningKey(onlyNew, 'kid-a')).toEqual(key.privateJwk);
    });
  });
}
