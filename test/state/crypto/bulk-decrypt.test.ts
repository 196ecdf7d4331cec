import { afterEach, describe, expect, it, vi } from 'vitest';
import { decryptInBulk, IN_THREAD_MAX_PAYLOADS } from '../../../src/state/crypto/bulk-decrypt.js';
import {
  createDecryptWorkerPool,
  type DecryptWorkerPool,
  type EncryptedPayload,
} from '../../../src/state/crypto/decrypt-worker-pool.js';
import { createPayloadCipher } from '../../../src/state/crypto/payload-cipher.js';
import type { PayloadCipher } from '../../../src/state/state-types.js';
import { errorOf } from '../../helpers/errors.js';
import { testKeyRing, testStateKey } from '../../helpers/state-backends.js';

const k1 = testStateKey('k1');
const k2 = testStateKey('key.two_2');
const ring = testKeyRing(k1, k2);
// The worker path is what these tests are about, so the cipher opens payloads with node:crypto.
const cipher = createPayloadCipher(ring, { openBatch: undefined });
const writers = [createPayloadCipher(testKeyRing(k1)), createPayloadCipher(testKeyRing(k2))];

function payloadsOf(count: number): EncryptedPayload[] {
  return Array.from({ length: count }, (_, index) => {
    const address = { table: 'plans', column: 'contents', rowId: `plan-${index}` };
    const writer = writers[index % writers.length] ?? cipher;
    return {
      ciphertext: writer.encrypt(`plan ${index} ${'x'.repeat(index % 300)}`, address),
      address,
    };
  });
}

function decryptOneByOne(payloads: readonly EncryptedPayload[], by: PayloadCipher = cipher) {
  return payloads.map((payload) => by.decrypt(payload.ciphertext, payload.address));
}

describe('decryptInBulk', () => {
  const pools: DecryptWorkerPool[] = [];

  function newPool(workerCount?: number, keyRing = ring): DecryptWorkerPool {
    const pool = createDecryptWorkerPool(keyRing, { workerCount });
    pools.push(pool);
    return pool;
  }

  /** A pool whose workers all run, so that batches are shared with them from the first. */
  async function readyPool(workerCount: number, keyRing = ring): Promise<DecryptWorkerPool> {
    const pool = newPool(workerCount, keyRing);
    await vi.waitFor(() => expect(pool.readyWorkers()).toBe(workerCount), { timeout: 10_000 });
    return pool;
  }

  afterEach(async () => {
    await Promise.all(pools.splice(0).map((pool) => pool.close()));
  });

  it('returns what one by one returns, in order, with the work shared with two workers', async () => {
    const pool = await readyPool(2);
    const payloads = payloadsOf(2_500);

    expect(await decryptInBulk(cipher, () => pool, payloads)).toEqual(decryptOneByOne(payloads));
  });

  it('leaves small batches on the calling thread, without starting a pool', async () => {
    const payloads = payloadsOf(IN_THREAD_MAX_PAYLOADS);
    let isPoolWanted = false;

    const plaintexts = await decryptInBulk(
      cipher,
      () => {
        isPoolWanted = true;
        return newPool();
      },
      payloads,
    );

    expect(plaintexts).toEqual(decryptOneByOne(payloads));
    expect(isPoolWanted).toBe(false);
  });

  it('decrypts on the calling thread alone while the workers start', async () => {
    const pool = newPool(1);
    const payloads = payloadsOf(1_000);

    const plaintexts = await decryptInBulk(cipher, () => pool, payloads);

    expect(plaintexts).toEqual(decryptOneByOne(payloads));
    await vi.waitFor(() => expect(pool.readyWorkers()).toBe(1), { timeout: 10_000 });
  });

  it('finishes a batch on the calling thread when the pool closes under it', async () => {
    const pool = await readyPool(1);
    const payloads = payloadsOf(5_000);

    const inFlight = decryptInBulk(cipher, () => pool, payloads);
    await pool.close();

    expect(await inFlight).toEqual(decryptOneByOne(payloads));
  });

  it('serves several batches at once, each in its own order', async () => {
    const pool = await readyPool(2);
    const batches = [payloadsOf(900), payloadsOf(2_000).reverse(), payloadsOf(300)];

    const results = await Promise.all(
      batches.map((payloads) => decryptInBulk(cipher, () => pool, payloads)),
    );

    expect(results).toEqual(batches.map((payloads) => decryptOneByOne(payloads)));
  });

  it('rejects a payload the ring cannot open with the error of the single path', async () => {
    const ringOfK1Only = testKeyRing(k1);
    const pool = await readyPool(2, ringOfK1Only);
    const payloads = payloadsOf(2_000);
    const readerOfK1Only = createPayloadCipher(ringOfK1Only, { openBatch: undefined });

    const error = await errorOf(decryptInBulk(readerOfK1Only, () => pool, payloads));

    expect(error.code).toBe('payload_undecryptable');
    expect(() => decryptOneByOne(payloads, readerOfK1Only)).toThrow(error.message);
    expect(error.message).toContain("of row 'plan-1'");
  });

  it('gives the error of the single path for a payload in a worker share', async () => {
    const pool = await readyPool(2);
    const payloads = payloadsOf(3_000);
    const late = payloads[2_500];
    if (late === undefined) throw new Error('expected 3,000 payloads');
    const moved = { ...late, address: { ...late.address, rowId: 'plan-moved' } };
    const batch = payloads.map((payload, index) => (index === 2_500 ? moved : payload));

    const error = await errorOf(decryptInBulk(cipher, () => pool, batch));

    expect(error.code).toBe('payload_undecryptable');
    expect(() => decryptOneByOne(batch)).toThrow(error.message);
    expect(error.message).toContain("of row 'plan-moved'");
  });
});
