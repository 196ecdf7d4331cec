import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  createDecryptWorkerPool,
  type DecryptWorkerPool,
  type EncryptedPayload,
} from '../../../src/state/crypto/decrypt-worker-pool.js';
import { createPayloadCipher } from '../../../src/state/crypto/payload-cipher.js';
import type { KeyRing } from '../../../src/state/state-types.js';
import { testKeyRing, testStateKey } from '../../helpers/state-backends.js';

const k1 = testStateKey('k1');
const k2 = testStateKey('key.two_2');
const ring = testKeyRing(k1, k2);
const cipher = createPayloadCipher(ring);
const writers = [createPayloadCipher(testKeyRing(k1)), createPayloadCipher(testKeyRing(k2))];

function payloadsOf(count: number): EncryptedPayload[] {
  return Array.from({ length: count }, (_, index) => {
    const address = { table: 'logs', column: 'lines', rowId: `task-${index}` };
    return { ciphertext: cipher.encrypt(`line ${index}`, address), address };
  });
}

function decryptOneByOne(payloads: readonly EncryptedPayload[]): Buffer[] {
  return payloads.map((payload) => cipher.decrypt(payload.ciphertext, payload.address));
}

describe('the decryption worker pool', () => {
  const pools: DecryptWorkerPool[] = [];

  /** A pool whose workers all run. */
  async function readyPool(workerCount: number, keyRing: KeyRing = ring) {
    const pool = createDecryptWorkerPool(keyRing, { workerCount });
    pools.push(pool);
    await vi.waitFor(() => expect(pool.readyWorkers()).toBe(workerCount), { timeout: 10_000 });
    return pool;
  }

  afterEach(async () => {
    await Promise.all(pools.splice(0).map((pool) => pool.close()));
  });

  it('opens any bytes at any address exactly as the cipher does', async () => {
    const pool = await readyPool(2);
    const text = fc.string({ unit: 'grapheme', maxLength: 12 });
    const payload = fc
      .record({
        plaintext: fc.uint8Array({ maxLength: 600 }),
        table: text,
        column: text,
        rowId: text,
        writer: fc.constantFrom(...writers),
      })
      .map(({ plaintext, writer, ...address }) => ({
        ciphertext: writer.encrypt(Buffer.from(plaintext), address),
        address,
      }));

    await fc.assert(
      fc.asyncProperty(fc.array(payload, { maxLength: 200 }), async (payloads) => {
        expect(await pool.decrypt(payloads)).toEqual(decryptOneByOne(payloads));
      }),
      { numRuns: 50 },
    );
  });

  it.each([
    [
      'moved to another row',
      (payload: EncryptedPayload) => ({
        ...payload,
        address: { ...payload.address, rowId: 'task-moved' },
      }),
    ],
    [
      'altered',
      (payload: EncryptedPayload) => {
        const ciphertext = Buffer.from(payload.ciphertext);
        ciphertext[ciphertext.length - 1] = (ciphertext[ciphertext.length - 1] ?? 0) ^ 0x01;
        return { ...payload, ciphertext };
      },
    ],
    [
      'written with a key it lacks',
      (payload: EncryptedPayload) => ({
        ...payload,
        ciphertext: createPayloadCipher(testKeyRing(testStateKey('k9'))).encrypt(
          'x',
          payload.address,
        ),
      }),
    ],
    [
      'not a payload at all',
      (payload: EncryptedPayload) => ({
        ...payload,
        ciphertext: Buffer.from('plain text'),
      }),
    ],
  ])('answers nothing for a request holding a payload %s', async (_, spoil) => {
    const pool = await readyPool(1);
    const payloads = payloadsOf(100).map((payload, index) =>
      index === 60 ? spoil(payload) : payload,
    );

    expect(await pool.decrypt(payloads)).toBeUndefined();
  });

  it('answers nothing for requests in flight when it closes, or made after', async () => {
    const pool = await readyPool(1);
    const payloads = payloadsOf(20_000);

    const inFlight = pool.decrypt(payloads);
    await pool.close();

    expect(await inFlight).toBeUndefined();
    expect(await pool.decrypt(payloads.slice(0, 10))).toBeUndefined();
    expect(pool.readyWorkers()).toBe(0);
  });

  it('starts no thread until asked how many are ready', () => {
    const before = (process.report.getReport() as { workers: unknown[] }).workers.length;
    const pool = createDecryptWorkerPool(ring, { workerCount: 2 });
    pools.push(pool);

    expect((process.report.getReport() as { workers: unknown[] }).workers.length).toBe(before);
  });
});
