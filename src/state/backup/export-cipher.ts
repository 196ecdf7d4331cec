import type { CipherGCM, Hash } from 'node:crypto';
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import type { KeyRing, StateKey } from '../state-types.js';
import { backupInvalid } from './backup-manifest.js';

/**
 * The encrypted container of a PostgreSQL export: one AES-256-GCM stream over the whole body.
 *
 *   magic "SLUICEBK" (8) | format (1) | key-id length (1) | key id (ASCII) | nonce (12)
 *   | ciphertext | tag (16)
 *
 * The header is the associated data, so the key id and format cannot be changed either. The
 * cipher key is derived from the state key with HKDF, so backup and payload keys differ.
 */

const MAGIC = Buffer.from('SLUICEBK', 'ascii');
const FORMAT = 1;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const ALGORITHM = 'aes-256-gcm';
const KEY_INFO = 'sluice state backup v1';
const FLUSH_BYTES = 1 << 20;

/** The header of an export file. */
export type ExportHeader = {
  readonly keyId: string;
  readonly nonce: Buffer;
  readonly bytes: Buffer;
};

/** Opens `path` (which must exist and be empty) for an export encrypted with `key`. */
export async function openExportWriter(path: string, key: StateKey): Promise<ExportWriter> {
  const header = encodeHeader(key.id, randomBytes(NONCE_BYTES));
  const cipher = createCipheriv(ALGORITHM, backupKey(key), header.nonce);
  cipher.setAAD(header.bytes);

  const writer = new ExportWriter(await open(path, 'r+'), cipher);
  await writer.write(header.bytes);
  return writer;
}

/** Writes an export: plaintext lines in, encrypted bytes out to a file, hashed on the way. */
export class ExportWriter {
  readonly #handle: FileHandle;
  readonly #cipher: CipherGCM;
  readonly #hash = createHash('sha256');
  #sizeBytes = 0;
  #pending: string[] = [];
  #pendingLength = 0;

  constructor(handle: FileHandle, cipher: CipherGCM) {
    this.#handle = handle;
    this.#cipher = cipher;
  }

  /** Adds one line; lines are encrypted and written about a megabyte at a time. */
  async writeLine(line: string): Promise<void> {
    this.#pending.push(line, '\n');
    this.#pendingLength += line.length + 1;
    if (this.#pendingLength >= FLUSH_BYTES) await this.#flush();
  }

  /** Writes the tag, flushes to disk and closes; returns the file's size and checksum. */
  async finish(): Promise<{ sizeBytes: number; checksumSha256: string }> {
    await this.#flush();
    await this.write(this.#cipher.final());
    await this.write(this.#cipher.getAuthTag());
    await this.#handle.sync();
    await this.#handle.close();
    return { sizeBytes: this.#sizeBytes, checksumSha256: this.#hash.digest('hex') };
  }

  /** Closes the file after a failure; the caller removes it. */
  abort(): Promise<void> {
    return this.#handle.close();
  }

  /** Writes bytes as they are (the header, ciphertext, the tag). */
  async write(bytes: Buffer): Promise<void> {
    this.#hash.update(bytes);
    this.#sizeBytes += bytes.length;
    let written = 0;
    while (written < bytes.length) {
      written += (await this.#handle.write(bytes, written)).bytesWritten;
    }
  }

  async #flush(): Promise<void> {
    const plaintext = Buffer.from(this.#pending.join(''), 'utf8');
    this.#pending = [];
    this.#pendingLength = 0;
    await this.write(this.#cipher.update(plaintext));
  }
}

/**
 * Decrypts an export and yields its lines, hashing every byte of the file into `hash`. The tag is
 * checked after the last line: a consumer must treat what it read as untrusted until the
 * iteration ends without an error.
 */
export async function* decryptExportLines(
  path: string,
  ring: KeyRing,
  sizeBytes: number,
  hash: Hash,
): AsyncGenerator<string> {
  const header = await readExportHeader(path);
  const decipher = createDecipheriv(
    ALGORITHM,
    backupKey(keyOf(ring, header.keyId, path)),
    header.nonce,
  );
  decipher.setAAD(header.bytes);
  decipher.setAuthTag(await readTag(path, sizeBytes, header));

  const lines = new LineSplitter();
  const bodyEnd = sizeBytes - TAG_BYTES;
  let offset = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: FLUSH_BYTES })) {
    const bytes = chunk as Buffer;
    hash.update(bytes);
    const body = bytes.subarray(
      Math.max(0, header.bytes.length - offset),
      Math.max(0, bodyEnd - offset),
    );
    offset += bytes.length;
    if (body.length > 0) yield* lines.push(decipher.update(body));
  }

  try {
    decipher.final();
  } catch (error) {
    throw backupInvalid(path, 'its authentication tag does not match: the file was altered', error);
  }
  yield* lines.end();
}

/** Reads and checks an export's header. */
export async function readExportHeader(path: string): Promise<ExportHeader> {
  const handle = await open(path, 'r');
  try {
    const start = Buffer.alloc(MAGIC.length + 2 + 255 + NONCE_BYTES);
    const { bytesRead } = await handle.read(start, 0, start.length, 0);
    return decodeHeader(start.subarray(0, bytesRead), path);
  } finally {
    await handle.close();
  }
}

function encodeHeader(keyId: string, nonce: Buffer): ExportHeader {
  const id = Buffer.from(keyId, 'ascii');
  const bytes = Buffer.concat([MAGIC, Buffer.from([FORMAT, id.length]), id, nonce]);
  return { keyId, nonce, bytes };
}

function decodeHeader(start: Buffer, path: string): ExportHeader {
  if (!start.subarray(0, MAGIC.length).equals(MAGIC) || start[MAGIC.length] !== FORMAT) {
    throw backupInvalid(path, 'it is not a Sluice PostgreSQL export of a known format');
  }
  const idLength = start[MAGIC.length + 1] ?? 0;
  const idStart = MAGIC.length + 2;
  const end = idStart + idLength + NONCE_BYTES;
  if (start.length < end + TAG_BYTES) throw backupInvalid(path, 'it is truncated');

  const keyId = start.toString('ascii', idStart, idStart + idLength);
  return { keyId, nonce: start.subarray(end - NONCE_BYTES, end), bytes: start.subarray(0, end) };
}

async function readTag(path: string, sizeBytes: number, header: ExportHeader): Promise<Buffer> {
  if (sizeBytes < header.bytes.length + TAG_BYTES) throw backupInvalid(path, 'it is truncated');
  const handle = await open(path, 'r');
  try {
    const tag = Buffer.alloc(TAG_BYTES);
    await handle.read(tag, 0, TAG_BYTES, sizeBytes - TAG_BYTES);
    return tag;
  } finally {
    await handle.close();
  }
}

function keyOf(ring: KeyRing, keyId: string, path: string): StateKey {
  const key = ring.keys.get(keyId);
  if (key === undefined) {
    throw backupInvalid(
      path,
      `it is encrypted with key '${keyId}', which is not in the key ring; add that key to ` +
        'SLUICE_STATE_KEYS or the key file',
    );
  }
  return key;
}

function backupKey(key: StateKey): Buffer {
  return Buffer.from(hkdfSync('sha256', key.secret, Buffer.alloc(0), KEY_INFO, 32));
}

/** Splits a byte stream into UTF-8 lines at '\n'. */
class LineSplitter {
  #pending: Buffer[] = [];

  *push(bytes: Buffer): Generator<string> {
    let start = 0;
    let end = bytes.indexOf(10, start);
    while (end >= 0) {
      const piece = bytes.subarray(start, end);
      const line = this.#pending.length === 0 ? piece : Buffer.concat([...this.#pending, piece]);
      this.#pending = [];
      yield line.toString('utf8');
      start = end + 1;
      end = bytes.indexOf(10, start);
    }
    if (start < bytes.length) this.#pending.push(bytes.subarray(start));
  }

  *end(): Generator<string> {
    if (this.#pending.length > 0) yield Buffer.concat(this.#pending).toString('utf8');
    this.#pending = [];
  }
}
