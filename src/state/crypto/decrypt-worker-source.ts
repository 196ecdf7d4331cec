import type { KeyObject } from 'node:crypto';
import { PAYLOAD_FORMAT } from './payload-format.js';

/**
 * The program of a payload decryption worker, and the messages it exchanges. It opens payloads
 * exactly as `createPayloadCipher` does (same header, associated data and tag check) but reports
 * only that a request holds a payload that did not open: the caller then decrypts that request
 * on its own thread with the cipher, which throws the usual `payload_undecryptable` error, so
 * messages are written in one place. The program is plain JavaScript given as source, so the
 * same code runs from `dist/` and under the test runner.
 */

/** What a worker starts with: the ring's keys by id, and the format's constants. */
export type DecryptWorkerData = {
  readonly keys: readonly (readonly [string, KeyObject])[];
  readonly format: typeof PAYLOAD_FORMAT;
};

/**
 * A run of payloads: the ciphertexts packed end to end into one transferred buffer, the start
 * of each (plus the end of the last), and each payload's table, column and row id in turn.
 */
export type DecryptRequest = {
  readonly requestId: number;
  readonly packed: ArrayBuffer;
  readonly offsets: Uint32Array;
  readonly addresses: readonly string[];
};

/** The plaintexts packed the same way, or that some payload of the request did not open. */
export type DecryptReply =
  | { readonly requestId: number; readonly plaintexts: ArrayBuffer; readonly offsets: Uint32Array }
  | { readonly requestId: number; readonly hasFailed: true };

/** The worker's data for a key ring's keys. */
export function decryptWorkerData(keys: ReadonlyMap<string, KeyObject>): DecryptWorkerData {
  return { keys: [...keys.entries()], format: PAYLOAD_FORMAT };
}

// Kept in step with payload-cipher.ts: the version byte, key id, nonce, tag, then the body; the
// associated data is the domain, the header and the address, each with a 4-byte length prefix.
// The output buffer is allocated with allocUnsafeSlow so that it owns its memory and can be
// transferred (small allocUnsafe buffers share a pool).
export const DECRYPT_WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createDecipheriv } = require('node:crypto');

const keys = new Map(workerData.keys);
const format = workerData.format;
const domain = Buffer.from(format.addressDomain, 'ascii');

function writeBytes(out, bytes, offset) {
  out.writeUInt32BE(bytes.length, offset);
  return offset + 4 + bytes.copy(out, offset + 4);
}

function writeText(out, text, offset) {
  const length = out.write(text, offset + 4, 'utf8');
  out.writeUInt32BE(length, offset);
  return offset + 4 + length;
}

function associatedData(header, table, column, rowId) {
  const textBytes = Buffer.byteLength(table) + Buffer.byteLength(column) + Buffer.byteLength(rowId);
  const out = Buffer.allocUnsafe(5 * 4 + domain.length + header.length + textBytes);
  let offset = writeBytes(out, domain, 0);
  offset = writeBytes(out, header, offset);
  offset = writeText(out, table, offset);
  offset = writeText(out, column, offset);
  writeText(out, rowId, offset);
  return out;
}

function open(ciphertext, table, column, rowId, out, outOffset) {
  const idLength = ciphertext[1];
  if (ciphertext[0] !== format.version || idLength === undefined) return -1;
  const bodyStart = 2 + idLength;
  const nonceEnd = bodyStart + format.nonceBytes;
  const tagEnd = nonceEnd + format.tagBytes;
  if (ciphertext.length < tagEnd) return -1;
  const key = keys.get(ciphertext.toString('latin1', 2, bodyStart));
  if (key === undefined) return -1;

  const nonce = ciphertext.subarray(bodyStart, nonceEnd);
  const options = { authTagLength: format.tagBytes };
  const decipher = createDecipheriv(format.algorithm, key, nonce, options);
  decipher.setAAD(associatedData(ciphertext.subarray(0, bodyStart), table, column, rowId));
  decipher.setAuthTag(ciphertext.subarray(nonceEnd, tagEnd));
  let written = decipher.update(ciphertext.subarray(tagEnd)).copy(out, outOffset);
  written += decipher.final().copy(out, outOffset + written);
  return written;
}

function decryptRequest(request) {
  const packed = Buffer.from(request.packed);
  const count = request.offsets.length - 1;
  const out = Buffer.allocUnsafeSlow(packed.length);
  const offsets = new Uint32Array(count + 1);
  let outOffset = 0;
  for (let index = 0; index < count; index++) {
    const ciphertext = packed.subarray(request.offsets[index], request.offsets[index + 1]);
    const at = index * 3;
    let written = -1;
    try {
      const a = request.addresses;
      written = open(ciphertext, a[at], a[at + 1], a[at + 2], out, outOffset);
    } catch {
      written = -1;
    }
    if (written < 0) return { reply: { requestId: request.requestId, hasFailed: true } };
    offsets[index] = outOffset;
    outOffset += written;
  }
  offsets[count] = outOffset;
  const reply = { requestId: request.requestId, plaintexts: out.buffer, offsets };
  return { reply, transfer: [out.buffer] };
}

parentPort.on('message', (request) => {
  const { reply, transfer } = decryptRequest(request);
  parentPort.postMessage(reply, transfer);
});
`;
