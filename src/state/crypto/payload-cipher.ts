import type { KeyObject } from 'node:crypto';
import { createCipheriv, createDecipheriv, createSecretKey, randomBytes } from 'node:crypto';
import { SluiceError } from '../../core/errors.js';
import type {
  EncryptedPayload,
  KeyRing,
  PayloadAddress,
  PayloadCipher,
  StateKey,
} from '../state-types.js';
import { nativeOpenBatch, type OpenBatch } from './native-gcm.js';
import { openInBatches } from './payload-batch.js';
import {
  associatedData,
  encodeHeader,
  type Header,
  NONCE_BYTES,
  PAYLOAD_FORMAT,
  readHeader,
  TAG_BYTES,
  undecryptable,
} from './payload-format.js';

/**
 * Encryption of payload columns with AES-256-GCM in the format of payload-format.ts: a fresh
 * random nonce per write, and the payload's address bound in as associated data, so a ciphertext
 * copied to another table, column or row fails to decrypt.
 */

const KEY_BYTES = 32;
const ALGORITHM = PAYLOAD_FORMAT.algorithm;

/** What a cipher can be made with; tests pass `openBatch: undefined` to use node:crypto alone. */
export type PayloadCipherOptions = { readonly openBatch?: OpenBatch | undefined };

/** Creates a cipher that encrypts with the ring's active key and decrypts with any of its keys. */
export function createPayloadCipher(
  ring: KeyRing,
  options: PayloadCipherOptions = { openBatch: nativeOpenBatch() },
): PayloadCipher {
  // Key objects are made once here, so that no call re-imports key bytes.
  const keyObjects = new Map<string, KeyObject>();
  for (const key of [ring.active, ...ring.keys.values()]) {
    if (!keyObjects.has(key.id)) keyObjects.set(key.id, secretKeyOf(key));
  }
  const activeKey = secretKeyOf(ring.active);
  const activeHeader = encodeHeader(ring.active.id);

  const decrypt = (ciphertext: Buffer, address: PayloadAddress): Buffer => {
    const header = readHeader(ciphertext, address);
    const key = keyObjects.get(header.keyId);
    if (key === undefined) throw unknownKey(header.keyId, address, keyObjects.keys());
    return openPayload(ciphertext, header, key, address);
  };

  const { openBatch } = options;
  const decryptAll = (payloads: readonly EncryptedPayload[]): Buffer[] =>
    openBatch === undefined
      ? payloads.map((payload) => decrypt(payload.ciphertext, payload.address))
      : openInBatches(openBatch, ring, payloads, decrypt);

  return {
    encrypt: (plaintext, address) => sealPayload(plaintext, address, activeKey, activeHeader),
    decrypt,
    decryptText: (ciphertext, address) => decrypt(ciphertext, address).toString('utf8'),
    keyIdOf: (ciphertext) => readHeader(ciphertext, undefined).keyId,
    decryptAll,
    hasBatchOpener: openBatch !== undefined,
  };
}

function sealPayload(
  plaintext: string | Buffer,
  address: PayloadAddress,
  key: KeyObject,
  header: Buffer,
): Buffer {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv(ALGORITHM, key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(associatedData(header, address));

  const body = cipher.update(typeof plaintext === 'string' ? utf8(plaintext) : plaintext);
  const final = cipher.final();
  return Buffer.concat([header, nonce, cipher.getAuthTag(), body, final]);
}

function openPayload(
  ciphertext: Buffer,
  header: Header,
  key: KeyObject,
  address: PayloadAddress,
): Buffer {
  const nonceEnd = header.bodyStart + NONCE_BYTES;
  const tagEnd = nonceEnd + TAG_BYTES;
  const nonce = ciphertext.subarray(header.bodyStart, nonceEnd);
  const decipher = createDecipheriv(ALGORITHM, key, nonce, { authTagLength: TAG_BYTES });
  decipher.setAAD(associatedData(ciphertext.subarray(0, header.bodyStart), address));
  decipher.setAuthTag(ciphertext.subarray(nonceEnd, tagEnd));

  const body = decipher.update(ciphertext.subarray(tagEnd));
  try {
    const final = decipher.final();
    return final.length === 0 ? body : Buffer.concat([body, final]);
  } catch (error) {
    throw undecryptable(
      address,
      `its authentication check failed: key '${header.keyId}' in the ring differs from the key ` +
        'it was written with, or the stored value was altered or copied from another row; ' +
        'restore the original key or the row from a backup',
      error,
    );
  }
}

function secretKeyOf(key: StateKey): KeyObject {
  if (key.secret.length !== KEY_BYTES) {
    throw new SluiceError(
      'state_key_invalid',
      `State key '${key.id}' has ${key.secret.length} bytes instead of ${KEY_BYTES}; ` +
        'AES-256-GCM needs a 32-byte key',
    );
  }
  return createSecretKey(key.secret);
}

function unknownKey(keyId: string, address: PayloadAddress, known: Iterable<string>): SluiceError {
  const ids = [...known].map((id) => `'${id}'`).join(', ');
  return undecryptable(
    address,
    `it was written with key '${keyId}', which is not in the key ring (it holds ${ids}); ` +
      'add that key to SLUICE_STATE_KEYS or the key file',
  );
}

function utf8(text: string): Buffer {
  return Buffer.from(text, 'utf8');
}
