import type { PayloadCipher } from '../state-types.js';
import type { DecryptWorkerPool, EncryptedPayload } from './decrypt-worker-pool.js';

/**
 * Decryption of many payloads at once. With the native batch opener built (the usual case, see
 * native-gcm.ts), the cipher opens the whole batch on the calling thread in one call per key,
 * several times faster than sharing it out below. Without it, each payload costs a few
 * microseconds of node:crypto decipher set-up whatever its size, so 10,000 of them keep one
 * thread busy for ~50 ms or more, and a large batch is split into equal shares: the calling
 * thread decrypts the first while each ready worker decrypts one of the others, and the
 * plaintexts come back in the order given. Small batches, and batches that arrive while the
 * workers are still starting, stay on the calling thread.
 */

/** Batches of at most this many payloads are decrypted on the calling thread, without workers. */
export const IN_THREAD_MAX_PAYLOADS = 256;

/** A worker's share is sent in messages of at most this many payloads, to bound their size. */
const MESSAGE_MAX_PAYLOADS = 4_096;

/**
 * Decrypts the payloads in order. A payload that does not decrypt rejects with the cipher's own
 * `payload_undecryptable` error for the first such payload in order, as decrypting one by one
 * would; `poolOf` is only called for batches large enough to share.
 */
export async function decryptInBulk(
  cipher: PayloadCipher,
  poolOf: () => DecryptWorkerPool,
  payloads: readonly EncryptedPayload[],
): Promise<Buffer[]> {
  if (cipher.hasBatchOpener) return cipher.decryptAll(payloads);
  if (payloads.length <= IN_THREAD_MAX_PAYLOADS) return decryptHere(cipher, payloads);

  const pool = poolOf();
  const workerCount = pool.readyWorkers();
  if (workerCount === 0) return decryptHere(cipher, payloads);

  // Shares are contiguous and this thread's comes first, so the first error it meets is the
  // first in order; the workers' requests never reject, so none is left unhandled.
  const shareCount = Math.ceil(payloads.length / (workerCount + 1));
  const parts = partsOf(payloads.slice(shareCount), Math.min(shareCount, MESSAGE_MAX_PAYLOADS));
  const replies = parts.map((part) => pool.decrypt(part));
  const plaintexts = decryptHere(cipher, payloads.slice(0, shareCount));

  for (const [index, part] of parts.entries()) {
    // A part that did not open, or whose worker stopped, is decrypted again here, so that the
    // cipher throws the same error as the single path.
    const decrypted = (await replies[index]) ?? decryptHere(cipher, part);
    for (const plaintext of decrypted) plaintexts.push(plaintext);
  }
  return plaintexts;
}

/** Decrypts on the calling thread with the cipher, one payload after another. */
function decryptHere(cipher: PayloadCipher, payloads: readonly EncryptedPayload[]): Buffer[] {
  return payloads.map((payload) => cipher.decrypt(payload.ciphertext, payload.address));
}

function partsOf<T>(items: readonly T[], size: number): T[][] {
  const parts: T[][] = [];
  for (let start = 0; start < items.length; start += size) {
    parts.push(items.slice(start, start + size));
  }
  return parts;
}
