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

/**
 * Encryption of payload columns with AES-256-GCM. Each ciphertext carries a header naming the key
 * it was written with, a fresh random nonce and the tag:
 *
 *   version (1) | key-id length (1) | key id (ASCII) | nonce (12) | tag (16) | ciphertext
 *
 * The associated data is the header followed by a length-prefixed encoding of the payload's
 * address, so a ciphertext copied to another table, column or row fails to decrypt.
 */

/** The constants of the payload format, shared with the decryption workers. */
export const PAYLOAD_FORMAT = {
  version: 1,
  nonceBytes: 12,
  tagBytes: 16,
  algorithm: 'aes-256-gcm',
  addressDomain: 'sluice payload v1',
} as const;

const FORMAT_VERSION = PAYLOAD_FORMAT.version;
const NONCE_BYTES = PAYLOAD_FORMAT.nonceBytes;
const TAG_BYTES = PAYLOAD_FORMAT.tagBytes;
const KEY_BYTES = 32;
const PRINTABLE_ASCII = /^[\x21-\x7e]{1,255}$/;
const ALGORITHM = PAYLOAD_FORMAT.algorithm;
const ADDRESS_DOMAIN = Buffer.from(PAYLOAD_FORMAT.addressDomain, 'ascii');

type Header = { readonly keyId: string; readonly bodyStart: number };

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

/**
 * Opens payloads with the native opener, one call per key; then, in order, opens with `decrypt`
 * whatever the opener did not (a payload it refused, those after it, one whose header does not
 * read or whose key is not in the ring), so the first bad payload in order throws its own error.
 */
function openInBatches(
  openBatch: OpenBatch,
  ring: KeyRing,
  payloads: readonly EncryptedPayload[],
  decrypt: (ciphertext: Buffer, address: PayloadAddress) => Buffer,
): Buffer[] {
  const headers = payloads.map((payload) => headerOrUndefined(payload));
  const plaintexts = new Array<Buffer | undefined>(payloads.length);
  for (const [keyId, indexes] of indexesByKey(headers)) {
    const secret = ring.keys.get(keyId)?.secret;
    if (secret === undefined) continue;
    const opened = openGroup(openBatch, secret, payloads, headers, indexes);
    for (const [position, plaintext] of opened.entries())
      plaintexts[indexes[position] ?? 0] = plaintext;
  }
  return payloads.map(
    (payload, index) => plaintexts[index] ?? decrypt(payload.ciphertext, payload.address),
  );
}

function headerOrUndefined(payload: EncryptedPayload): Header | undefined {
  try {
    return readHeader(payload.ciphertext, payload.address);
  } catch {
    return undefined;
  }
}

function indexesByKey(headers: readonly (Header | undefined)[]): Map<string, number[]> {
  const groups = new Map<string, number[]>();
  for (const [index, header] of headers.entries()) {
    if (header === undefined) continue;
    const group = groups.get(header.keyId);
    if (group === undefined) groups.set(header.keyId, [index]);
    else group.push(index);
  }
  return groups;
}

/**
 * Opens the payloads at `indexes` in one native call; the plaintexts in order, or, when one
 * fails, the ones before it (the caller opens the rest one by one and meets the error).
 */
function openGroup(
  openBatch: OpenBatch,
  secret: Buffer,
  payloads: readonly EncryptedPayload[],
  headers: readonly (Header | undefined)[],
  indexes: readonly number[],
): Buffer[] {
  const count = indexes.length;
  const ciphertexts = new Array<Buffer>(count);
  const bodyStarts = new Uint32Array(count);
  const outOffsets = new Uint32Array(count + 1);
  const aad = new AssociatedDataWriter(indexes.map((index) => payloads[index] as EncryptedPayload));
  for (let position = 0; position < count; position++) {
    const payload = payloads[indexes[position] ?? 0] as EncryptedPayload;
    const header = headers[indexes[position] ?? 0] as Header;
    ciphertexts[position] = payload.ciphertext;
    bodyStarts[position] = header.bodyStart;
    aad.add(payload, header);
    const plainLength = payload.ciphertext.length - header.bodyStart - NONCE_BYTES - TAG_BYTES;
    outOffsets[position + 1] = (outOffsets[position] ?? 0) + plainLength;
  }

  const out = Buffer.allocUnsafe(outOffsets[count] ?? 0);
  const failedAt = openBatch(
    secret,
    ciphertexts,
    bodyStarts,
    aad.bytes,
    aad.offsets,
    out,
    outOffsets,
  );
  const openedCount = failedAt < 0 ? count : failedAt;
  const plaintexts = new Array<Buffer>(openedCount);
  for (let position = 0; position < openedCount; position++) {
    plaintexts[position] = out.subarray(outOffsets[position], outOffsets[position + 1]);
  }
  return plaintexts;
}

/**
 * The associated data of a whole batch in one buffer, in the layout `associatedData` gives one
 * payload. Rows of one table and column share everything but the row id, so the shared prefix
 * (domain, header, table, column) is encoded once and copied for each row until it changes.
 */
class AssociatedDataWriter {
  readonly bytes: Buffer;
  readonly offsets: Uint32Array;
  #last:
    | { readonly keyId: string; readonly table: string; readonly column: string; prefix: Buffer }
    | undefined;
  #count = 0;
  #end = 0;

  constructor(payloads: readonly EncryptedPayload[]) {
    // An upper bound: the prefix bytes of each row are counted exactly below, and a UTF-16 unit
    // of the row id takes at most three bytes of UTF-8.
    let bound = 0;
    for (const payload of payloads) {
      const { table, column, rowId } = payload.address;
      bound +=
        5 * 4 + ADDRESS_DOMAIN.length + 2 + 255 + 3 * (table.length + column.length + rowId.length);
    }
    this.bytes = Buffer.allocUnsafe(bound);
    this.offsets = new Uint32Array(payloads.length + 1);
  }

  /** Appends one payload's associated data. */
  add(payload: EncryptedPayload, header: Header): void {
    const prefix = this.#prefixOf(payload, header);
    this.#end += prefix.copy(this.bytes, this.#end);
    this.#end = writeText(this.bytes, payload.address.rowId, this.#end);
    this.#count += 1;
    this.offsets[this.#count] = this.#end;
  }

  #prefixOf(payload: EncryptedPayload, header: Header): Buffer {
    const { table, column } = payload.address;
    const last = this.#last;
    if (last?.keyId === header.keyId && last.table === table && last.column === column) {
      return last.prefix;
    }
    const full = associatedData(payload.ciphertext.subarray(0, header.bodyStart), {
      table,
      column,
      rowId: '',
    });
    // The row id's part is its 4-byte length (0 here) and its bytes (none).
    const prefix = full.subarray(0, full.length - 4);
    this.#last = { keyId: header.keyId, table, column, prefix };
    return prefix;
  }
}

/** The associated data: a domain tag, the header and the address, each length-prefixed. */
function associatedData(header: Buffer, address: PayloadAddress): Buffer {
  const { table, column, rowId } = address;
  const textBytes = Buffer.byteLength(table) + Buffer.byteLength(column) + Buffer.byteLength(rowId);
  // One allocation per call: this runs for every payload read, so it avoids temporary buffers.
  const out = Buffer.allocUnsafe(5 * 4 + ADDRESS_DOMAIN.length + header.length + textBytes);

  let offset = writeBytes(out, ADDRESS_DOMAIN, 0);
  offset = writeBytes(out, header, offset);
  offset = writeText(out, table, offset);
  offset = writeText(out, column, offset);
  writeText(out, rowId, offset);
  return out;
}

function writeBytes(out: Buffer, bytes: Buffer, offset: number): number {
  out.writeUInt32BE(bytes.length, offset);
  return offset + 4 + bytes.copy(out, offset + 4);
}

function writeText(out: Buffer, text: string, offset: number): number {
  const length = out.write(text, offset + 4, 'utf8');
  out.writeUInt32BE(length, offset);
  return offset + 4 + length;
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

function encodeHeader(keyId: string): Buffer {
  if (!PRINTABLE_ASCII.test(keyId)) {
    throw new SluiceError(
      'state_key_invalid',
      `State key id '${keyId}' must be printable ASCII of at most 255 characters; rename the key`,
    );
  }
  const id = Buffer.from(keyId, 'latin1');
  return Buffer.concat([Buffer.from([FORMAT_VERSION, id.length]), id]);
}

function readHeader(ciphertext: Buffer, address: PayloadAddress | undefined): Header {
  const version = ciphertext[0];
  const idLength = ciphertext[1];
  if (version !== FORMAT_VERSION || idLength === undefined) {
    throw undecryptable(address, 'it is not a Sluice payload of a known format version');
  }

  const bodyStart = 2 + idLength;
  if (ciphertext.length < bodyStart + NONCE_BYTES + TAG_BYTES) {
    throw undecryptable(address, 'it is truncated');
  }
  return { keyId: ciphertext.toString('latin1', 2, bodyStart), bodyStart };
}

function unknownKey(keyId: string, address: PayloadAddress, known: Iterable<string>): SluiceError {
  const ids = [...known].map((id) => `'${id}'`).join(', ');
  return undecryptable(
    address,
    `it was written with key '${keyId}', which is not in the key ring (it holds ${ids}); ` +
      'add that key to SLUICE_STATE_KEYS or the key file',
  );
}

function undecryptable(
  address: PayloadAddress | undefined,
  reason: string,
  cause?: unknown,
): SluiceError {
  const where =
    address === undefined
      ? 'A stored payload'
      : `The payload in '${address.table}.${address.column}' of row '${address.rowId}'`;
  return new SluiceError('payload_undecryptable', `${where} cannot be decrypted: ${reason}`, {
    cause,
  });
}

function utf8(text: string): Buffer {
  return Buffer.from(text, 'utf8');
}
