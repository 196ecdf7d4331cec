import { afterEach, describe, expect, it, vi } from 'vitest';
import { SluiceError } from '../../src/core/errors.js';
import { AUDIT_LOG_TABLE } from '../../src/state/audit-log.js';
import { IN_THREAD_MAX_PAYLOADS } from '../../src/state/crypto/bulk-decrypt.js';
import { createPayloadCipher } from '../../src/state/crypto/payload-cipher.js';
import { openStateStore } from '../../src/state/open-state-store.js';
import {
  decryptPayloads,
  decryptPayloadTexts,
  type EncryptedPayload,
  startDecryptionWorkers,
} from '../../src/state/payload-decryption.js';
import { newRowId } from '../../src/state/row-id.js';
import type { StateStore } from '../../src/state/state-store.js';
import type { PayloadCipher } from '../../src/state/state-types.js';
import { errorOf } from '../helpers/errors.js';
import {
  stateBackendsUnderTest,
  type TestStateLocation,
  testKeyRing,
  testStateKey,
} from '../helpers/state-backends.js';

const k1 = testStateKey('k1');
const k2 = testStateKey('k2');
const ring = testKeyRing(k1, k2);
const LARGE_BATCH = 1_500;

/** Writes `count` audit entries whose details are encrypted by `cipher`, in one transaction. */
async function writeEntries(store: StateStore, count: number, cipher = store.cipher) {
  const values: Record<string, unknown>[] = [];
  for (let index = 0; index < count; index++) {
    const id = newRowId();
    const details = JSON.stringify({ index, note: `entry ${index} ✓`.repeat(1 + (index % 7)) });
    values.push({
      id,
      occurred_at: new Date().toISOString(),
      actor: 'alice',
      action: 'test',
      subject: `shop.model_${index}`,
      details: cipher.encrypt(details, addressOf(id)),
    });
  }
  await store.db.transaction().execute(async (trx) => {
    for (let offset = 0; offset < values.length; offset += 200) {
      await trx
        .insertInto(AUDIT_LOG_TABLE)
        .values(values.slice(offset, offset + 200))
        .execute();
    }
  });
}

/** Every stored payload of the audit log, ordered by row id. */
async function readPayloads(store: StateStore): Promise<EncryptedPayload[]> {
  const rows = await store.db
    .selectFrom(AUDIT_LOG_TABLE)
    .select(['id', 'details'])
    .orderBy('id')
    .execute();
  return rows.map((row) => ({
    ciphertext: row.details as Buffer,
    address: addressOf(String(row.id)),
  }));
}

function addressOf(rowId: string) {
  return { table: AUDIT_LOG_TABLE, column: 'details', rowId };
}

function decryptOneByOne(cipher: PayloadCipher, payloads: readonly EncryptedPayload[]): string[] {
  return payloads.map((payload) => cipher.decryptText(payload.ciphertext, payload.address));
}

function singlePathError(cipher: PayloadCipher, payloads: readonly EncryptedPayload[]) {
  try {
    decryptOneByOne(cipher, payloads);
  } catch (error) {
    if (error instanceof SluiceError) return error;
    throw error;
  }
  throw new Error('expected one payload not to decrypt');
}

function withFlippedByte(payload: EncryptedPayload): EncryptedPayload {
  const ciphertext = Buffer.from(payload.ciphertext);
  const last = ciphertext.length - 1;
  ciphertext[last] = (ciphertext[last] ?? 0) ^ 0x01;
  return { ...payload, ciphertext };
}

for (const backend of stateBackendsUnderTest()) {
  describe.skipIf(backend.skipReason !== '')(`bulk payload decryption on ${backend.name}`, () => {
    let test: TestStateLocation | undefined;
    let store: StateStore | undefined;

    /** A fresh store whose decryption workers run, so that large batches are shared. */
    async function openFresh(): Promise<StateStore> {
      test = await backend.create();
      const opened = await openStateStore({
        location: test.location,
        keyRing: ring,
        shouldMigrate: true,
      });
      store = opened;
      await vi.waitFor(() => expect(startDecryptionWorkers(opened)).toBeGreaterThan(0), {
        timeout: 10_000,
      });
      return opened;
    }

    afterEach(async () => {
      await store?.close();
      await test?.cleanup();
      store = undefined;
      test = undefined;
    });

    it('returns the same plaintexts in the same order as decrypting one by one', async () => {
      const store = await openFresh();
      await writeEntries(store, LARGE_BATCH);
      const payloads = await readPayloads(store);

      const texts = await decryptPayloadTexts(store, payloads);
      const bytes = await decryptPayloads(store, payloads);

      const expected = decryptOneByOne(store.cipher, payloads);
      expect(texts).toEqual(expected);
      expect(bytes.map((plaintext) => plaintext.toString('utf8'))).toEqual(expected);
    });

    it('decrypts small batches, an empty one included, as one by one', async () => {
      const store = await openFresh();
      await writeEntries(store, IN_THREAD_MAX_PAYLOADS + 1);
      const payloads = await readPayloads(store);

      for (const size of [0, 1, IN_THREAD_MAX_PAYLOADS, IN_THREAD_MAX_PAYLOADS + 1]) {
        const batch = payloads.slice(0, size);
        expect(await decryptPayloadTexts(store, batch)).toEqual(
          decryptOneByOne(store.cipher, batch),
        );
      }
    });

    it('decrypts payloads written with any key of the ring', async () => {
      const store = await openFresh();
      await writeEntries(store, 700);
      await writeEntries(store, 700, createPayloadCipher(testKeyRing(k2)));
      const payloads = await readPayloads(store);

      const texts = await decryptPayloadTexts(store, payloads);

      expect(new Set(payloads.map((payload) => store.cipher.keyIdOf(payload.ciphertext)))).toEqual(
        new Set(['k1', 'k2']),
      );
      expect(texts).toEqual(decryptOneByOne(store.cipher, payloads));
    });

    it('rejects a tampered row with the same error as the single path', async () => {
      const store = await openFresh();
      await writeEntries(store, LARGE_BATCH);
      const payloads = await readPayloads(store);
      const tampered = payloads.map((payload, index) =>
        index === 1_234 ? withFlippedByte(payload) : payload,
      );

      const error = await errorOf(decryptPayloads(store, tampered));

      const expected = singlePathError(store.cipher, tampered);
      expect(error.code).toBe('payload_undecryptable');
      expect(error.message).toBe(expected.message);
      expect(error.message).toContain(`of row '${payloads[1_234]?.address.rowId}'`);
    });

    it('names the first undecryptable row in order when several are', async () => {
      const store = await openFresh();
      await writeEntries(store, LARGE_BATCH);
      const payloads = await readPayloads(store);
      const tamperedRows = new Set([1_400, 700, 300]);
      const tampered = payloads.map((payload, index) =>
        tamperedRows.has(index) ? withFlippedByte(payload) : payload,
      );

      const error = await errorOf(decryptPayloads(store, tampered));

      expect(error.message).toBe(singlePathError(store.cipher, tampered).message);
      expect(error.message).toContain(`of row '${payloads[300]?.address.rowId}'`);
    });

    it('rejects a row written with a key the ring lacks with the same error', async () => {
      const store = await openFresh();
      await writeEntries(store, 900);
      await writeEntries(store, 1, createPayloadCipher(testKeyRing(testStateKey('k9'))));
      await writeEntries(store, 900);
      const payloads = await readPayloads(store);

      const error = await errorOf(decryptPayloadTexts(store, payloads));

      expect(error.code).toBe('payload_undecryptable');
      expect(error.message).toBe(singlePathError(store.cipher, payloads).message);
      expect(error.message).toContain("written with key 'k9'");
      expect(error.message).not.toContain(k1.secret.toString('base64'));
    });

    it('keeps decrypting after the store closes, on the calling thread', async () => {
      const store = await openFresh();
      await writeEntries(store, LARGE_BATCH);
      const payloads = await readPayloads(store);

      const inFlight = decryptPayloadTexts(store, payloads);
      await store.close();

      const expected = decryptOneByOne(store.cipher, payloads);
      expect(await inFlight).toEqual(expected);
      expect(await decryptPayloadTexts(store, payloads)).toEqual(expected);
    });

    it('stops its worker threads when the store closes', async () => {
      const runningWorkers = () =>
        (process.report.getReport() as { workers: unknown[] }).workers.length;
      const before = runningWorkers();
      const store = await openFresh();
      await writeEntries(store, LARGE_BATCH);

      await decryptPayloads(store, await readPayloads(store));
      const whileOpen = runningWorkers();
      await store.close();

      expect(whileOpen).toBeGreaterThan(before);
      expect(runningWorkers()).toBe(before);
    });
  });
}
