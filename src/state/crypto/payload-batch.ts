import type { EncryptedPayload, KeyRing, PayloadAddress } from '../state-types.js';
import type { OpenBatch } from './native-gcm.js';
import {
  ADDRESS_DOMAIN,
  associatedData,
  type Header,
  NONCE_BYTES,
  readHeader,
  TAG_BYTES,
  writeText,
} from './payload-format.js';

/**
 * Opens payloads with the native opener, one call per key; then, in order, opens with `decrypt`
 * whatever the opener did not (a payload it refused, those after it, one whose header does not
 * read or whose key is not in the ring), so the first bad payload in order throws its own error.
 */
export function openInBatches(
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
