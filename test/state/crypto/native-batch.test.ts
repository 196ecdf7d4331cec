import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SluiceError } from '../../../src/core/errors.js';
import { nativeOpenBatch } from '../../../src/state/crypto/native-gcm.js';
import { createPayloadCipher } from '../../../src/state/crypto/payload-cipher.js';
import type { EncryptedPayload, PayloadAddress } from '../../../src/state/state-types.js';
import { testKeyRing, testStateKey } from '../../helpers/state-backends.js';

const k1 = testStateKey('k1');
const k2 = testStateKey('k2');
const ring = testKeyRing(k1, k2);
const native = createPayloadCipher(ring);
const nodeOnly = createPayloadCipher(ring, { openBatch: undefined });
const writers = [createPayloadCipher(testKeyRing(k1)), createPayloadCipher(testKeyRing(k2))];

function addressOf(index: number): PayloadAddress {
  return { table: 'sluice_audit_log', column: 'details', rowId: `row-${index}` };
}

/** Payloads of 0 to ~5 KB, written alternately with both keys, some with multi-byte text. */
function payloadsOf(count: number): EncryptedPayload[] {
  return Array.from({ length: count }, (_, index) => {
    const plaintext =
      index % 3 === 0 ? `entry ${index} ✓ `.repeat(index % 400) : randomBytes(index);
    const writer = writers[index % 2] ?? native;
    return { ciphertext: writer.encrypt(plaintext, addressOf(index)), address: addressOf(index) };
  });
}

function firstError(cipher: typeof native, payloads: readonly EncryptedPayload[]): SluiceError {
  try {
    cipher.decryptAll(payloads);
  } catch (error) {
    if (error instanceof SluiceError) return error;
    throw error;
  }
  throw new Error('expected a payload not to decrypt');
}

function flipped(payload: EncryptedPayload, at: number): EncryptedPayload {
  const ciphertext = Buffer.from(payload.ciphertext);
  ciphertext[at] = (ciphertext[at] ?? 0) ^ 0x01;
  return { ...payload, ciphertext };
}

describe('the native batch opener', () => {
  it('is built with the package, so batches are opened natively', () => {
    expect(nativeOpenBatch()).toBeTypeOf('function');
    expect(native.hasBatchOpener).toBe(true);
    expect(nodeOnly.hasBatchOpener).toBe(false);
  });

  it('opens what node:crypto opens, in order, across keys and sizes, empty ones included', () => {
    const payloads = payloadsOf(600);

    const opened = native.decryptAll(payloads);

    expect(opened.map((plaintext) => plaintext.toString('hex'))).toEqual(
      payloads.map((payload) =>
        nodeOnly.decrypt(payload.ciphertext, payload.address).toString('hex'),
      ),
    );
    expect(native.decryptAll([])).toEqual([]);
  });

  it('fails on a tampered body, tag or header with the error of the single path', () => {
    const payloads = payloadsOf(40);
    for (const at of [0, 4, 20, 40]) {
      const tampered = payloads.map((payload, index) =>
        index === 17 ? flipped(payload, at) : payload,
      );

      const error = firstError(native, tampered);

      expect(error.code).toBe('payload_undecryptable');
      expect(error.message).toBe(firstError(nodeOnly, tampered).message);
      expect(error.message).toContain("'row-17'");
    }
  });

  it('names the first bad payload in order, whichever key group it is in', () => {
    const payloads = payloadsOf(50);
    const moved = { ...(payloads[30] as EncryptedPayload), address: addressOf(31) };
    const truncated = { ...(payloads[12] as EncryptedPayload), ciphertext: Buffer.from([1, 2]) };
    const bad = payloads.map((payload, index) =>
      index === 30 ? moved : index === 12 ? truncated : payload,
    );

    const error = firstError(native, bad);

    expect(error.message).toBe(firstError(nodeOnly, bad).message);
    expect(error.message).toContain("'row-12'");
    expect(error.message).toContain('truncated');
  });

  it('refuses a payload written with a key the ring lacks, naming the key', () => {
    const stranger = createPayloadCipher(testKeyRing(testStateKey('k9')));
    const payloads = payloadsOf(10);
    payloads[3] = { ciphertext: stranger.encrypt('x', addressOf(3)), address: addressOf(3) };

    expect(firstError(native, payloads).message).toContain("written with key 'k9'");
  });

  it('throws on arguments that do not fit together instead of reading past a buffer', () => {
    const openBatch = nativeOpenBatch();
    if (openBatch === undefined) throw new Error('the batch opener is not built');
    // One payload of 40 bytes: a 4-byte header, nonce, tag and 8 bytes of ciphertext.
    const payload = Buffer.alloc(40);
    const open = (key: Buffer, out: Buffer, outEnd: number) =>
      openBatch(
        key,
        [payload],
        new Uint32Array([4]),
        Buffer.alloc(0),
        new Uint32Array([0, 0]),
        out,
        new Uint32Array([0, outEnd]),
      );

    expect(() => open(Buffer.alloc(16), Buffer.alloc(8), 8)).toThrow(TypeError);
    expect(() => open(k1.secret, Buffer.alloc(4), 8)).toThrow(RangeError);
    expect(() => open(k1.secret, Buffer.alloc(7), 7)).toThrow(RangeError);
    expect(open(k1.secret, Buffer.alloc(8), 8)).toBe(0);
  });
});
