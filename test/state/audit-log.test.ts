import { afterEach, describe, expect, it } from 'vitest';
import { SluiceError } from '../../src/core/errors.js';
import {
  appendAuditEntry,
  auditDetailsAddress,
  auditEntryHash,
  readAuditEntries,
  readAuditRows,
} from '../../src/state/audit-log.js';
import { openStateStore } from '../../src/state/open-state-store.js';
import type { StateStore } from '../../src/state/state-store.js';
import {
  stateBackendsUnderTest,
  type TestStateLocation,
  testKeyRing,
  testStateKey,
} from '../helpers/state-backends.js';

const ring = testKeyRing(testStateKey('k1'));

for (const backend of stateBackendsUnderTest()) {
  describe.skipIf(backend.skipReason !== '')(`audit log on ${backend.name}`, () => {
    let test: TestStateLocation | undefined;
    let store: StateStore | undefined;

    async function openFresh(): Promise<StateStore> {
      test = await backend.create();
      store = await openStateStore({ location: test.location, keyRing: ring, shouldMigrate: true });
      return store;
    }

    afterEach(async () => {
      await store?.close();
      await test?.cleanup();
      store = undefined;
      test = undefined;
    });

    it('reads back what was appended, oldest first, with the details decrypted', async () => {
      const store = await openFresh();
      const written = [];
      for (const subject of ['shop.orders', 'shop.customers', 'shop.revenue']) {
        written.push(
          await appendAuditEntry(store, {
            actor: 'alice',
            action: 'plan.apply',
            subject,
            details: { models: [subject], note: 'ünïcödé' },
          }),
        );
      }

      const entries = await readAuditEntries(store, { limit: 10 });
      expect(entries).toEqual(written);
      expect(entries.map((entry) => entry.id)).toEqual(written.map((entry) => entry.id).sort());
      expect(entries.map((entry) => entry.seq)).toEqual([1, 2, 3]);
      expect(Date.parse(entries[0]?.occurredAt ?? '')).not.toBeNaN();
      for (const entry of entries) expect(entry.hash).toMatch(/^[0-9a-f]{64}$/);
      expect(new Set(entries.map((entry) => entry.hash)).size).toBe(3);
    });

    it('chains each entry to the hash of the one before', async () => {
      const store = await openFresh();
      for (const action of ['first', 'second', 'third']) {
        await appendAuditEntry(store, { actor: 'a', action, subject: 's', details: {} });
      }

      const rows = await readAuditRows(store, { limit: 10 });
      expect(rows.map((row) => row.prevHash)).toEqual([null, rows[0]?.hash, rows[1]?.hash]);
    });

    it('keeps the salt that enters the hash inside the encrypted details', async () => {
      const store = await openFresh();
      const entry = await appendAuditEntry(store, {
        actor: 'a',
        action: 'client.created',
        subject: 'ci',
        details: { roles: ['viewer'] },
      });

      const [row] = await readAuditRows(store, { limit: 1 });
      const stored = JSON.parse(
        store.cipher.decryptText(row?.ciphertext ?? Buffer.alloc(0), auditDetailsAddress(entry.id)),
      );
      expect(stored).toEqual({ salt: expect.any(String), details: { roles: ['viewer'] } });
      expect(Buffer.from(stored.salt, 'base64')).toHaveLength(16);
      const rehashed = auditEntryHash({ ...entry, prevHash: null, salt: stored.salt });
      expect(rehashed).toBe(entry.hash);
    });

    it('refuses a read position that is not a sequence number', async () => {
      const store = await openFresh();

      const error = await readAuditEntries(store, { limit: 1, after: 1.5 }).catch((e) => e);
      expect(error).toBeInstanceOf(SluiceError);
      expect((error as SluiceError).code).toBe('usage');
    });

    it('pages through entries after a given sequence number', async () => {
      const store = await openFresh();
      for (let index = 0; index < 5; index++) {
        await appendAuditEntry(store, {
          actor: 'bob',
          action: 'run',
          subject: `model_${index}`,
          details: { index },
        });
      }

      const first = await readAuditEntries(store, { limit: 2 });
      const rest = await readAuditEntries(store, { limit: 10, after: first.at(-1)?.seq });
      expect(first.map((entry) => entry.details)).toEqual([{ index: 0 }, { index: 1 }]);
      expect(rest.map((entry) => entry.details)).toEqual([
        { index: 2 },
        { index: 3 },
        { index: 4 },
      ]);
    });

    it('stores the details encrypted, never as their plaintext', async () => {
      const store = await openFresh();
      const entry = await appendAuditEntry(store, {
        actor: 'alice',
        action: 'secret.rotate',
        subject: 'gateway.warehouse',
        details: { reason: 'quarterly rotation of the warehouse password' },
      });

      const raw = await store.db
        .selectFrom('sluice_audit_log')
        .select('details')
        .where('id', '=', entry.id)
        .executeTakeFirstOrThrow();
      const stored = raw.details as Buffer;
      expect(Buffer.isBuffer(stored)).toBe(true);
      expect(stored.includes('quarterly rotation')).toBe(false);
      expect(store.cipher.keyIdOf(stored)).toBe('k1');
    });

    it('refuses to decrypt details copied from another row', async () => {
      const store = await openFresh();
      const [a, b] = [
        await appendAuditEntry(store, { actor: 'a', action: 'x', subject: 's', details: { a: 1 } }),
        await appendAuditEntry(store, { actor: 'b', action: 'x', subject: 's', details: { b: 2 } }),
      ];
      const copied = await store.db
        .selectFrom('sluice_audit_log')
        .select('details')
        .where('id', '=', a.id)
        .executeTakeFirstOrThrow();
      await store.db
        .updateTable('sluice_audit_log')
        .set({ details: copied.details })
        .where('id', '=', b.id)
        .execute();

      const error = await readAuditEntries(store, { limit: 10 }).catch((caught) => caught);
      expect(error).toBeInstanceOf(SluiceError);
      expect((error as SluiceError).code).toBe('payload_undecryptable');
      expect((error as SluiceError).message).toContain(b.id);
    });

    it('reads and decrypts 10,000 entries in order', async () => {
      const store = await openFresh();
      for (let index = 0; index < 10_000; index++) {
        await appendAuditEntry(store, {
          actor: 'scheduler',
          action: 'run.finish',
          subject: `shop.model_${index % 50}`,
          details: { index, intervals: [['2024-01-01', '2024-01-02']], rows: index * 7 },
        });
      }

      const entries = await readAuditEntries(store, { limit: 10_000 });

      expect(entries).toHaveLength(10_000);
      expect(entries[9_999]?.details).toMatchObject({ index: 9_999 });
    }, 120_000);
  });
}
