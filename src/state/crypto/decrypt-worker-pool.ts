import { createSecretKey, type KeyObject } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { EncryptedPayload, KeyRing } from '../state-types.js';
import {
  DECRYPT_WORKER_SOURCE,
  type DecryptReply,
  type DecryptRequest,
  type DecryptWorkerData,
  decryptWorkerData,
} from './decrypt-worker-source.js';

/**
 * A small pool of worker threads that decrypt payloads for one store. The threads start with the
 * first request and take work only once they run, so a caller never waits for one to boot; each
 * holds a reference on the event loop only while it has work, so an idle pool never keeps the
 * process alive. `close` stops them; work in flight then comes back as not done, never lost.
 */

export type { EncryptedPayload } from '../state-types.js';

/** The workers of one store. */
export type DecryptWorkerPool = {
  /** Starts the workers on first use; how many run and can take work now. */
  readyWorkers(): number;
  /**
   * Decrypts the payloads on the least busy ready worker. Resolves with the plaintexts in order,
   * or with undefined when some payload did not open or the worker stopped; never rejects.
   */
  decrypt(payloads: readonly EncryptedPayload[]): Promise<readonly Buffer[] | undefined>;
  /** Stops the workers; later requests resolve with undefined. */
  close(): Promise<void>;
};

/** What the pool can be tuned with; the defaults suit the machine it runs on. */
export type DecryptWorkerPoolOptions = {
  readonly workerCount?: number;
};

/** At most this many workers, however many cores there are. */
const MAX_WORKERS = 4;

type PoolWorker = {
  readonly worker: Worker;
  readonly inFlight: Map<number, (plaintexts: readonly Buffer[] | undefined) => void>;
  isOnline: boolean;
};

/** Creates a pool for the ring's keys; no thread starts until the first request. */
export function createDecryptWorkerPool(
  ring: KeyRing,
  options: DecryptWorkerPoolOptions = {},
): DecryptWorkerPool {
  return new WorkerPool(ring, options.workerCount ?? defaultWorkerCount());
}

class WorkerPool implements DecryptWorkerPool {
  readonly #ring: KeyRing;
  readonly #workerCount: number;
  readonly #workers: PoolWorker[] = [];
  #nextRequestId = 0;
  #hasStarted = false;
  #isClosed = false;

  constructor(ring: KeyRing, workerCount: number) {
    this.#ring = ring;
    this.#workerCount = workerCount;
  }

  readyWorkers(): number {
    this.#startWorkers();
    return this.#readyWorkers().length;
  }

  decrypt(payloads: readonly EncryptedPayload[]): Promise<readonly Buffer[] | undefined> {
    const entry = leastBusy(this.#readyWorkers());
    if (entry === undefined) return Promise.resolve(undefined);

    const request = packRequest(payloads, this.#nextRequestId++);
    if (entry.inFlight.size === 0) entry.worker.ref();
    const reply = new Promise<readonly Buffer[] | undefined>((resolve) => {
      entry.inFlight.set(request.requestId, resolve);
    });
    entry.worker.postMessage(request, [request.packed]);
    return reply;
  }

  async close(): Promise<void> {
    this.#isClosed = true;
    await Promise.all(this.#workers.map((entry) => entry.worker.terminate()));
  }

  #readyWorkers(): PoolWorker[] {
    return this.#isClosed ? [] : this.#workers.filter((entry) => entry.isOnline);
  }

  // A worker that stops is not replaced, so a thread that cannot start does not cost every
  // request its start-up; once none is left, callers decrypt on their own thread.
  #startWorkers(): void {
    if (this.#hasStarted || this.#isClosed) return;
    this.#hasStarted = true;

    const workerData = decryptWorkerData(keyObjectsOf(this.#ring));
    for (let index = 0; index < this.#workerCount; index++) {
      this.#workers.push(this.#startWorker(workerData));
    }
  }

  #startWorker(workerData: DecryptWorkerData): PoolWorker {
    const worker = new Worker(DECRYPT_WORKER_SOURCE, { eval: true, workerData });
    const entry: PoolWorker = { worker, inFlight: new Map(), isOnline: false };

    worker.once('online', () => {
      entry.isOnline = true;
    });
    worker.on('message', (reply: DecryptReply) => onReply(entry, reply));
    // An 'error' event is followed by 'exit', where the requests in flight are answered.
    worker.on('error', () => undefined);
    worker.once('exit', () => {
      const index = this.#workers.indexOf(entry);
      if (index >= 0) this.#workers.splice(index, 1);
      for (const resolve of entry.inFlight.values()) resolve(undefined);
      entry.inFlight.clear();
    });
    // After the listeners: adding a 'message' listener holds the event loop again.
    worker.unref();
    return entry;
  }
}

function onReply(entry: PoolWorker, reply: DecryptReply): void {
  const resolve = entry.inFlight.get(reply.requestId);
  entry.inFlight.delete(reply.requestId);
  if (entry.inFlight.size === 0) entry.worker.unref();

  resolve?.('hasFailed' in reply ? undefined : unpackReply(reply.plaintexts, reply.offsets));
}

function leastBusy(workers: readonly PoolWorker[]): PoolWorker | undefined {
  let best: PoolWorker | undefined;
  for (const entry of workers) {
    if (best === undefined || entry.inFlight.size < best.inFlight.size) best = entry;
  }
  return best;
}

/** Packs the ciphertexts into one buffer that owns its memory, so that it can be transferred. */
function packRequest(payloads: readonly EncryptedPayload[], requestId: number): DecryptRequest {
  let totalBytes = 0;
  for (const payload of payloads) totalBytes += payload.ciphertext.length;

  const packed = Buffer.allocUnsafeSlow(totalBytes);
  const offsets = new Uint32Array(payloads.length + 1);
  const addresses: string[] = [];
  let offset = 0;
  payloads.forEach((payload, index) => {
    offsets[index] = offset;
    offset += payload.ciphertext.copy(packed, offset);
    addresses.push(payload.address.table, payload.address.column, payload.address.rowId);
  });
  offsets[payloads.length] = offset;

  return { requestId, packed: packed.buffer as ArrayBuffer, offsets, addresses };
}

function unpackReply(packed: ArrayBuffer, offsets: Uint32Array): Buffer[] {
  const bytes = Buffer.from(packed);
  const plaintexts: Buffer[] = [];
  for (let index = 0; index + 1 < offsets.length; index++) {
    plaintexts.push(bytes.subarray(offsets[index], offsets[index + 1]));
  }
  return plaintexts;
}

function keyObjectsOf(ring: KeyRing): Map<string, KeyObject> {
  const keys = new Map<string, KeyObject>();
  for (const key of [ring.active, ...ring.keys.values()]) {
    if (!keys.has(key.id)) keys.set(key.id, createSecretKey(key.secret));
  }
  return keys;
}

/** One worker per spare core (the calling thread decrypts too), at least one. */
function defaultWorkerCount(): number {
  return Math.max(1, Math.min(MAX_WORKERS, availableParallelism() - 1));
}
