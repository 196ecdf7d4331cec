import { SluiceError } from '../../core/errors.js';
import type { PayloadAddress } from '../state-types.js';

/**
 * The format of encrypted payload columns (AES-256-GCM). Each ciphertext carries a header naming
 * the key it was written with, a fresh random nonce and the tag:
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
export const NONCE_BYTES = PAYLOAD_FORMAT.nonceBytes;
export const TAG_BYTES = PAYLOAD_FORMAT.tagBytes;
const PRINTABLE_ASCII = /^[\x21-\x7e]{1,255}$/;
export const ADDRESS_DOMAIN = Buffer.from(PAYLOAD_FORMAT.addressDomain, 'ascii');

/** Where a ciphertext's body starts and which key wrote it. */
export type Header = { readonly keyId: string; readonly bodyStart: number };

/** The associated data: a domain tag, the header and the address, each length-prefixed. */
export function associatedData(header: Buffer, address: PayloadAddress): Buffer {
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

export function writeText(out: Buffer, text: string, offset: number): number {
  const length = out.write(text, offset + 4, 'utf8');
  out.writeUInt32BE(length, offset);
  return offset + 4 + length;
}

/** The header of payloads written with `keyId`. */
export function encodeHeader(keyId: string): Buffer {
  if (!PRINTABLE_ASCII.test(keyId)) {
    throw new SluiceError(
      'state_key_invalid',
      `State key id '${keyId}' must be printable ASCII of at most 255 characters; rename the key`,
    );
  }
  const id = Buffer.from(keyId, 'latin1');
  return Buffer.concat([Buffer.from([FORMAT_VERSION, id.length]), id]);
}

/** Reads a ciphertext's header; a payload of another format or truncated is an error. */
export function readHeader(ciphertext: Buffer, address: PayloadAddress | undefined): Header {
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

/** The error for a payload that cannot be decrypted, naming where it lives. */
export function undecryptable(
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
