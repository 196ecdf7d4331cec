import { decryptInBulk } from './crypto/bulk-decrypt.js';
import {
  createDecryptWorkerPool,
  type DecryptWorkerPool,
  type EncryptedPayload,
} from './crypto/decrypt-worker-pool.js';
import type { StateStore } from './state-store.js';

/**
 * The bulk read path of payload columns: every reader that decrypts more than a handful of rows
 * (the audit log, and later snapshots, plans and logs) goes through `decryptPayloads`, which
 * shares large batches between the calling thread and the store's decryption workers. The
 * workers start with the first large batch (or `startDecryptionWorkers`) and stop when the store
 * closes.
 */

export type { EncryptedPayload } from './crypto/decrypt-worker-pool.js';

const pools = new WeakMap<StateStore, DecryptWorkerPool>();

/**
 * Decrypts payloads with the store's key ring and returns the plaintexts in the order given. A
 * payload that does not decrypt rejects with the same `payload_undecryptable` error as
 * `store.cipher.decrypt`, for the first such payload in order. Plaintexts decrypted by a worker
 * are views of one buffer per message, so a caller that keeps a few of many should copy them.
 */
export function decryptPayloads(
  store: StateStore,
  payloads: readonly EncryptedPayload[],
): Promise<Buffer[]> {
  return decryptInBulk(store.cipher, () => poolOf(store), payloads);
}

/** Decrypts payloads as `decryptPayloads` does and decodes each as UTF-8. */
export async function decryptPayloadTexts(
  store: StateStore,
  payloads: readonly EncryptedPayload[],
): Promise<string[]> {
  const plaintexts = await decryptPayloads(store, payloads);
  return plaintexts.map((plaintext) => plaintext.toString('utf8'));
}

/**
 * Starts the store's decryption workers if they are not running yet, and returns how many are
 * ready. Optional: the first large batch starts them too, but runs on the calling thread alone
 * while they boot, so a long-running service can call this at start-up to have them ready.
 */
export function startDecryptionWorkers(store: StateStore): number {
  return poolOf(store).readyWorkers();
}

/** Stops the store's decryption workers; later batches run on the calling thread. */
export function closePayloadDecryption(store: StateStore): Promise<void> {
  return poolOf(store).close();
}

function poolOf(store: StateStore): DecryptWorkerPool {
  let pool = pools.get(store);
  if (pool === undefined) {
    pool = createDecryptWorkerPool(store.keyRing);
    pools.set(store, pool);
  }
  return pool;
}
