import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SluiceError } from '../../../src/core/errors.js';
import { parseKeyRing, withNewActiveKey } from '../../../src/state/crypto/key-ring.js';
import { createPayloadCipher } from '../../../src/state/crypto/payload-cipher.js';
import type { KeyRing, PayloadAddress, PayloadCipher } from '../../../src/state/state-types.js';

const secret1 = randomBytes(32);
const secret2 = randomBytes(32);
const ring1 = parseKeyRing(`k1:${secret1.toString('base64')}`, 'test');
const address: PayloadAddress = { table: 'models', column: 'definition', rowId: 'shop.orders' };
const plaintext = 'select order_id, amount from raw.orders where amount > 0';

// Header of a ciphertext written with 'k1': version, id length, 'k1'; then nonce and tag.
const headerEnd = 4;
const nonceEnd = headerEnd + 12;
const tagEnd = nonceEnd + 16;

function decryptError(cipher: PayloadCipher, ciphertext: Buffer, at = address): SluiceError {
  try {
    cipher.decrypt(ciphertext, at);
  } catch (error) {
    if (error instanceof SluiceError) return error;
    throw error;
  }
  throw new Error('expected decrypt to fail');
}

function flipped(buffer: Buffer, index: number): Buffer {
  const copy = Buffer.from(buffer);
  copy[index] = (copy[index] ?? 0) ^ 0x01;
  return copy;
}

function ringWith(id: string, secret: Buffer): KeyRing {
  return parseKeyRing(`${id}:${secret.toString('base64')}`, 'test');
}

describe('createPayloadCipher', () => {
  const cipher = createPayloadCipher(ring1);

  it('decrypts what it encrypted, as text and as bytes', () => {
    const bytes = randomBytes(300);

    expect(cipher.decryptText(cipher.encrypt(plaintext, address), address)).toBe(plaintext);
    expect(cipher.decrypt(cipher.encrypt(bytes, address), address).equals(bytes)).toBe(true);
    expect(cipher.decryptText(cipher.encrypt('', address), address)).toBe('');
    expect(cipher.decryptText(cipher.encrypt('héllo ✓', address), address)).toBe('héllo ✓');
  });

  it('writes the documented layout with the active key id', () => {
    const ciphertext = cipher.encrypt(plaintext, address);

    expect(ciphertext[0]).toBe(1);
    expect(ciphertext[1]).toBe(2);
    expect(ciphertext.toString('ascii', 2, headerEnd)).toBe('k1');
    expect(ciphertext).toHaveLength(tagEnd + Buffer.byteLength(plaintext));
    expect(cipher.keyIdOf(ciphertext)).toBe('k1');
  });

  it('uses a fresh nonce for every encryption', () => {
    const first = cipher.encrypt(plaintext, address);
    const second = cipher.encrypt(plaintext, address);

    expect(first.equals(second)).toBe(false);
    expect(first.subarray(headerEnd, nonceEnd).equals(second.subarray(headerEnd, nonceEnd))).toBe(
      false,
    );
  });

  it.each([
    ['another row', { ...address, rowId: 'shop.customers' }],
    ['another column', { ...address, column: 'query' }],
    ['another table', { ...address, table: 'snapshots' }],
  ])('refuses a ciphertext moved to %s', (_, moved) => {
    const error = decryptError(cipher, cipher.encrypt(plaintext, address), moved);

    expect(error.code).toBe('payload_undecryptable');
    expect(error.message).toContain(`'${moved.table}.${moved.column}' of row '${moved.rowId}'`);
    expect(error.message).toContain('copied from another row');
  });

  it('keeps address fields apart, so shifting a separator changes the address', () => {
    const ciphertext = cipher.encrypt(plaintext, { table: 'a:b', column: 'c', rowId: 'r' });

    const error = decryptError(cipher, ciphertext, { table: 'a', column: 'b:c', rowId: 'r' });

    expect(error.code).toBe('payload_undecryptable');
  });

  it.each([
    ['version', 0],
    ['key id length', 1],
    ['key id', 2],
    ['nonce', headerEnd + 3],
    ['tag', nonceEnd + 5],
    ['ciphertext', tagEnd + 7],
  ])('refuses a ciphertext whose %s byte was altered', (_, index) => {
    const ciphertext = cipher.encrypt(plaintext, address);

    const error = decryptError(cipher, flipped(ciphertext, index));

    expect(error.code).toBe('payload_undecryptable');
    expect(error.message).toContain("'models.definition' of row 'shop.orders'");
  });

  it('refuses a ciphertext whose key id byte gained a high bit', () => {
    const ciphertext = Buffer.from(cipher.encrypt(plaintext, address));
    ciphertext[2] = (ciphertext[2] ?? 0) | 0x80;

    expect(decryptError(cipher, ciphertext).code).toBe('payload_undecryptable');
  });

  it.each([0, 1, 3, tagEnd - 1, tagEnd + 10])('refuses a ciphertext truncated to %i bytes', (n) => {
    const ciphertext = cipher.encrypt(plaintext, address);

    const error = decryptError(cipher, ciphertext.subarray(0, n));

    expect(error.code).toBe('payload_undecryptable');
  });

  it('says a short ciphertext is truncated', () => {
    const error = decryptError(cipher, cipher.encrypt(plaintext, address).subarray(0, 20));

    expect(error.message).toContain('cannot be decrypted: it is truncated');
  });

  it('names an unknown key id and the ids the ring holds', () => {
    const other = createPayloadCipher(ringWith('k9', secret2));

    const error = decryptError(cipher, other.encrypt(plaintext, address));

    expect(error.message).toBe(
      "The payload in 'models.definition' of row 'shop.orders' cannot be decrypted: it was " +
        "written with key 'k9', which is not in the key ring (it holds 'k1'); add that key to " +
        'SLUICE_STATE_KEYS or the key file',
    );
  });

  it('refuses a ciphertext read with a different key of the same id', () => {
    const impostor = createPayloadCipher(ringWith('k1', secret2));

    const error = decryptError(impostor, cipher.encrypt(plaintext, address));

    expect(error.message).toContain("key 'k1' in the ring differs from the key");
  });

  it('decrypts with an old key after a new active key is added', () => {
    const old = cipher.encrypt(plaintext, address);
    const rotated = createPayloadCipher(withNewActiveKey(ring1, { id: 'k2', secret: secret2 }));

    const fresh = rotated.encrypt(plaintext, address);

    expect(rotated.decryptText(old, address)).toBe(plaintext);
    expect(rotated.keyIdOf(old)).toBe('k1');
    expect(rotated.keyIdOf(fresh)).toBe('k2');
    expect(decryptError(cipher, fresh).message).toContain("written with key 'k2'");
  });

  it('never puts key material or plaintext in its messages', () => {
    const secretText = 'password=hunter2';
    const ciphertext = cipher.encrypt(secretText, address);
    const errors = [
      decryptError(cipher, flipped(ciphertext, tagEnd)),
      decryptError(createPayloadCipher(ringWith('k1', secret2)), ciphertext),
      decryptError(createPayloadCipher(ringWith('k2', secret2)), ciphertext),
    ];

    for (const error of errors) {
      for (const secret of [secret1, secret2]) {
        expect(error.message).not.toContain(secret.toString('base64'));
        expect(error.message).not.toContain(secret.toString('hex'));
      }
      expect(error.message).not.toContain(secretText);
    }
  });

  it('decrypts its own writes when the active key is missing from the key map', () => {
    const ring: KeyRing = { active: { id: 'solo', secret: secret1 }, keys: new Map() };
    const solo = createPayloadCipher(ring);

    expect(solo.decryptText(solo.encrypt(plaintext, address), address)).toBe(plaintext);
  });

  it('refuses a key of the wrong length or an id that cannot go in the header', () => {
    const short: KeyRing = { active: { id: 'k1', secret: randomBytes(16) }, keys: new Map() };
    const unicode: KeyRing = { active: { id: 'clé', secret: secret1 }, keys: new Map() };

    expect(() => createPayloadCipher(short)).toThrow("State key 'k1' has 16 bytes instead of 32");
    expect(() => createPayloadCipher(unicode)).toThrow('must be printable ASCII');
  });

  it('reports a non-payload value from keyIdOf', () => {
    expect(() => cipher.keyIdOf(Buffer.from('plain text'))).toThrow(
      'A stored payload cannot be decrypted: it is not a Sluice payload',
    );
  });
});
