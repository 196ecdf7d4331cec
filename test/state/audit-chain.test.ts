import { afterEach, describe, expect, it } from 'vitest';
import { verifyAuditChain } from '../../src/state/audit-chain.js';
import {
  type AuditEntry,
  appendAuditEntry,
  auditDetailsAddress,
  readAuditEntries,
} from '../../src/state/audit-log.js';
import { withNewActiveKey } from '../../src/state/crypto/key-ring.js';
import { STATE_MIGRATIONS } from '../../src/state/migrations/index.js';
import { openStateStore } from '../../src/state/open-state-store.js';
import { rekeyState } from '../../src/state/rekey.js';
import { newRowId } from '../../src/state/row-id.js';
import type { StateStore } from '../../src/state/state-store.js';
import type { KeyRing, Migration } from '../../src/state/state-types.js';
import {
  stateBackendsUnderTest,
  type TestStateLocation,
  testKeyRing,
  testStateKey,
} from '../helpers/state-backends.js';

const ring = testKeyRing(testStateKey('k1'));
const BEFORE_CHAIN = STATE_MIGRATIONS.filter((migration) => migration.version < 5);

async function appendMany(store: StateStore, count: number): Promise<AuditEntry[]> {
  const entries = [];
  for (let index = 0; index < count; index++) {
    entries.push(
      await appendAuditEntry(store, {
        actor: 'alice',
        action: 'client.created',
        subject: `client-${index}`,
        details: { index, roles: ['viewer'] },
      }),
    );
  }
  return entries;
}

for (const backend of stateBackendsUnderTest()) {
  describe.skipIf(backend.skipReason !== '')(`the audit chain on ${backend.name}`, () => {
    let test: TestStateLocation | undefined;
    const stores: StateStore[] = [];

    async function open(
      options: { keyRing?: KeyRing; migrations?: readonly Migration[] } = {},
    ): Promise<StateStore> {
      test ??= await backend.create();
      const store = await openStateStore({
        location: test.location,
        keyRing: options.keyRing ?? ring,
        shouldMigrate: true,
        ...(options.migrations === undefined ? {} : { migrations: options.migrations }),
      });
      stores.push(store);
      return store;
    }

    afterEach(async () => {
      for (const store of stores.splice(0)) await store.close();
      await test?.cleanup();
      test = undefined;
    });

    it('reports an empty log as intact, with no head', async () => {
      const store = await open();

      expect(await verifyAuditChain(store)).toEqual({
        intact: true,
        entries: 0,
        unchained: 0,
        headSeq: null,
        headHash: null,
      });
    });

    it('reports an intact chain and its head after appends', async () => {
      const store = await open();
      const written = await appendMany(store, 5);

      expect(await verifyAuditChain(store)).toEqual({
        intact: true,
        entries: 5,
        unchained: 0,
        headSeq: 5,
        headHash: written[4]?.hash,
      });
    });

    it('numbers 20 appends made at once from 1 to 20 and keeps the chain intact', async () => {
      const store = await open();

      const written = await Promise.all(
        Array.from({ length: 20 }, (_, index) =>
          appendAuditEntry(store, { actor: 'a', action: 'x', subject: `s${index}`, details: {} }),
        ),
      );

      const sequence = written.map((entry) => entry.seq).sort((a, b) => a - b);
      expect(sequence).toEqual(Array.from({ length: 20 }, (_, index) => index + 1));
      expect(await verifyAuditChain(store)).toMatchObject({ intact: true, entries: 20 });
    });

    if (backend.name === 'postgres') {
      it('keeps the chain intact when two separately opened stores append at once', async () => {
        const [first, second] = [await open(), await open()];

        await Promise.all(
          Array.from({ length: 30 }, (_, index) =>
            appendAuditEntry(index % 2 === 0 ? first : second, {
              actor: index % 2 === 0 ? 'first' : 'second',
              action: 'x',
              subject: `s${index}`,
              details: { index },
            }),
          ),
        );

        const entries = await readAuditEntries(first, { limit: 100 });
        expect(entries.map((entry) => entry.seq)).toEqual(
          Array.from({ length: 30 }, (_, index) => index + 1),
        );
        expect(await verifyAuditChain(second)).toMatchObject({ intact: true, entries: 30 });
      });
    }

    for (const [column, value] of [
      ['actor', 'mallory'],
      ['subject', 'another-client'],
      ['action', 'client.listed'],
      ['occurred_at', '2020-01-01T00:00:00.000Z'],
      ['prev_hash', 'f'.repeat(64)],
    ] as const) {
      it(`detects an entry whose ${column} was changed in the database`, async () => {
        const store = await open();
        await appendMany(store, 5);

        await store.db
          .updateTable('sluice_audit_log')
          .set({ [column]: value })
          .where('seq', '=', 3)
          .execute();

        expect(await verifyAuditChain(store)).toMatchObject({
          intact: false,
          entries: 2,
          headSeq: 2,
          problem: { seq: 3, reason: 'entry 3 was changed (its hash does not match its contents)' },
        });
      });
    }

    it('detects details re-encrypted with other content at the same place', async () => {
      const store = await open();
      const written = await appendMany(store, 5);
      const id = written[2]?.id ?? '';
      const row = await store.db
        .selectFrom('sluice_audit_log')
        .select('details')
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
      const payload = JSON.parse(
        store.cipher.decryptText(row.details as Buffer, auditDetailsAddress(id)),
      );

      const forged = { ...payload, details: { ...payload.details, roles: ['admin'] } };
      await store.db
        .updateTable('sluice_audit_log')
        .set({ details: store.cipher.encrypt(JSON.stringify(forged), auditDetailsAddress(id)) })
        .where('id', '=', id)
        .execute();

      expect((await readAuditEntries(store, { limit: 10 }))[2]?.details).toEqual({
        index: 2,
        roles: ['admin'],
      });
      expect(await verifyAuditChain(store)).toMatchObject({
        intact: false,
        problem: { seq: 3, reason: 'entry 3 was changed (its hash does not match its contents)' },
      });
    });

    it('detects details copied from another entry', async () => {
      const store = await open();
      await appendMany(store, 5);
      const copied = await store.db
        .selectFrom('sluice_audit_log')
        .select('details')
        .where('seq', '=', 1)
        .executeTakeFirstOrThrow();

      await store.db
        .updateTable('sluice_audit_log')
        .set({ details: copied.details })
        .where('seq', '=', 4)
        .execute();

      expect(await verifyAuditChain(store)).toMatchObject({
        intact: false,
        entries: 3,
        problem: {
          seq: 4,
          reason: 'entry 4 was changed (its details do not decrypt at its place)',
        },
      });
    });

    it('detects an entry removed from the middle', async () => {
      const store = await open();
      await appendMany(store, 5);

      await store.db.deleteFrom('sluice_audit_log').where('seq', '=', 3).execute();

      expect(await verifyAuditChain(store)).toMatchObject({
        intact: false,
        entries: 2,
        problem: { seq: 3, reason: 'entry 3 is missing' },
      });
    });

    it('detects a removed first entry', async () => {
      const store = await open();
      await appendMany(store, 3);

      await store.db.deleteFrom('sluice_audit_log').where('seq', '=', 1).execute();

      expect(await verifyAuditChain(store)).toMatchObject({
        intact: false,
        entries: 0,
        problem: { seq: 1, reason: 'entry 1 is missing' },
      });
    });

    it('detects entries renumbered to close the gap of a removed one', async () => {
      const store = await open();
      await appendMany(store, 5);

      await store.db.deleteFrom('sluice_audit_log').where('seq', '=', 3).execute();
      for (const seq of [4, 5]) {
        await store.db
          .updateTable('sluice_audit_log')
          .set({ seq: seq - 1 })
          .where('seq', '=', seq)
          .execute();
      }

      expect(await verifyAuditChain(store)).toMatchObject({
        intact: false,
        problem: { seq: 3, reason: 'entry 3 was changed (its hash does not match its contents)' },
      });
    });

    it('detects an entry whose hash was removed', async () => {
      const store = await open();
      await appendMany(store, 4);

      await store.db
        .updateTable('sluice_audit_log')
        .set({ entry_hash: null })
        .where('seq', '=', 4)
        .execute();

      expect(await verifyAuditChain(store)).toMatchObject({
        intact: false,
        problem: { seq: 4, reason: 'entry 4 was changed (its hash was removed)' },
      });
    });

    it('detects an entry inserted by hand without a sequence number', async () => {
      const store = await open();
      await appendMany(store, 2);
      const id = newRowId();

      await store.db
        .insertInto('sluice_audit_log')
        .values({
          id,
          occurred_at: new Date().toISOString(),
          actor: 'mallory',
          action: 'x',
          subject: 's',
          details: store.cipher.encrypt('{}', auditDetailsAddress(id)),
        })
        .execute();

      expect(await verifyAuditChain(store)).toMatchObject({
        intact: false,
        entries: 2,
        problem: { seq: 3, reason: expect.stringContaining('1 entries have no sequence number') },
      });
    });

    it('reports a log cut at its end as intact, with a head unlike the recorded one', async () => {
      const store = await open();
      const written = await appendMany(store, 5);
      const recordedHead = { seq: written[4]?.seq, hash: written[4]?.hash };

      await store.db.deleteFrom('sluice_audit_log').where('seq', '>=', 4).execute();

      const report = await verifyAuditChain(store);
      expect(report.intact).toBe(true);
      expect({ seq: report.headSeq, hash: report.headHash }).not.toEqual(recordedHead);
      expect(report.headSeq).toBe(3);
    });

    it('stays intact when rekey rewraps every entry onto a new key', async () => {
      const store = await open();
      await appendMany(store, 7);
      await store.close();

      const rekeyed = await open({ keyRing: withNewActiveKey(ring, testStateKey('k2')) });
      expect((await rekeyState(rekeyed, { batchSize: 3 })).rewrapped).toBe(7);

      expect(await verifyAuditChain(rekeyed)).toMatchObject({
        intact: true,
        entries: 8,
        headSeq: 8,
      });
      expect((await readAuditEntries(rekeyed, { after: 7, limit: 1 }))[0]).toMatchObject({
        action: 'state.rekeyed',
        details: { keyId: 'k2', rows: 7 },
      });
    });

    it('numbers entries written before schema version 5 and chains the ones after', async () => {
      const old = await open({ migrations: BEFORE_CHAIN });
      const ids = [newRowId(), newRowId(), newRowId()];
      for (const [index, id] of ids.entries()) {
        await old.db
          .insertInto('sluice_audit_log')
          .values({
            id,
            occurred_at: new Date().toISOString(),
            actor: 'old',
            action: 'plan.apply',
            subject: `s${index}`,
            details: old.cipher.encrypt(JSON.stringify({ index }), auditDetailsAddress(id)),
          })
          .execute();
      }
      await old.close();

      const store = await open();
      await appendMany(store, 2);

      const entries = await readAuditEntries(store, { limit: 10 });
      expect(entries.map((entry) => [entry.seq, entry.id, entry.hash === null])).toEqual([
        [1, ids[0], true],
        [2, ids[1], true],
        [3, ids[2], true],
        [4, entries[3]?.id, false],
        [5, entries[4]?.id, false],
      ]);
      expect(entries.map((entry) => entry.details)).toEqual([
        { index: 0 },
        { index: 1 },
        { index: 2 },
        { index: 0, roles: ['viewer'] },
        { index: 1, roles: ['viewer'] },
      ]);
      expect(await verifyAuditChain(store)).toEqual({
        intact: true,
        entries: 5,
        unchained: 3,
        headSeq: 5,
        headHash: entries[4]?.hash,
      });
    });

    it('still checks chained entries when the recorded chain start moves past them', async () => {
      const store = await open();
      await appendMany(store, 4);

      await store.db
        .updateTable('sluice_store_info')
        .set({ value: '100' })
        .where('key', '=', 'audit_chain_start_seq')
        .execute();
      await store.db
        .updateTable('sluice_audit_log')
        .set({ actor: 'mallory' })
        .where('seq', '=', 2)
        .execute();

      expect(await verifyAuditChain(store)).toMatchObject({
        intact: false,
        problem: { seq: 2, reason: 'entry 2 was changed (its hash does not match its contents)' },
      });
    });
  });
}
