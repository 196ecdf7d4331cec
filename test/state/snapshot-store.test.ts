import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { Model } from '../../src/core/model.js';
import { type Snapshot, snapshotIdOf, versionIdOf } from '../../src/core/snapshot.js';
import { openStateStore } from '../../src/state/open-state-store.js';
import {
  markTableCreated,
  readSnapshots,
  readVersions,
  saveSnapshots,
} from '../../src/state/snapshot-store.js';
import type { StateStore } from '../../src/state/state-store.js';
import { errorOf } from '../helpers/errors.js';
import {
  stateBackendsUnderTest,
  type TestStateLocation,
  testKeyRing,
  testStateKey,
} from '../helpers/state-backends.js';

const ring = testKeyRing(testStateKey('k1'));
const QUERY_TEXT = 'SELECT order_id, amount_cents AS marker_amount_7f3a FROM raw.orders';

function hashOf(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** A model as the project loader would produce it, with a recognisable query. */
function modelNamed(name: string, options: { owner?: string; query?: string } = {}): Model {
  const file = `/project/models/${name}.sql`;
  return {
    name,
    kind: {
      name: 'INCREMENTAL_BY_TIME_RANGE',
      timeColumn: 'ordered_at',
      timeColumnFormat: undefined,
      batchSize: 7,
      lookback: 1,
      isForwardOnly: false,
    },
    dialect: 'duckdb',
    cron: '@daily',
    cronTimeZone: undefined,
    intervalUnit: 'day',
    start: '2024-01-01',
    end: undefined,
    grains: ['order_id'],
    tags: ['finance'],
    owner: options.owner,
    description: 'Orders with their amounts, ünïcödé',
    columns: [{ name: 'order_id', type: 'INT' }],
    audits: [{ name: 'not_null', args: { columns: ['order_id'] } }],
    dependsOn: [],
    isEnabled: true,
    allowsPartials: false,
    origin: { file, line: 1, column: 1 },
    query: { sql: options.query ?? QUERY_TEXT, file, line: 9, column: 1 },
    preStatements: [],
    postStatements: [],
    dependencies: [],
    externalTables: ['raw.orders'],
  };
}

/** A snapshot of `model` whose version comes from `dataText` and metadata hash from its owner. */
function snapshotOf(model: Model, dataText = 'data'): Snapshot {
  const dataHash = hashOf(`${model.name}:${dataText}`);
  const fingerprint = {
    dataHash,
    metadataHash: hashOf(`${model.name}:${model.owner ?? ''}`),
    version: dataHash.slice(0, 12),
    parentVersions: { 'raw.orders': 'abcdefabcdef' },
  };
  return {
    id: snapshotIdOf(model.name, fingerprint),
    name: model.name,
    fingerprint,
    version: fingerprint.version,
    table: { schema: 'sluice__shop', name: `orders__${fingerprint.version}` },
    model,
    variables: {},
    audits: [],
  };
}

async function countRows(store: StateStore, table: string): Promise<number> {
  return (await store.db.selectFrom(table).select('id').execute()).length;
}

async function definitionOf(store: StateStore, id: string): Promise<Buffer> {
  const row = await store.db
    .selectFrom('sluice_snapshots')
    .select('definition')
    .where('id', '=', id)
    .executeTakeFirstOrThrow();
  return Buffer.from(row.definition as Uint8Array);
}

for (const backend of stateBackendsUnderTest()) {
  describe.skipIf(backend.skipReason !== '')(`snapshot store on ${backend.name}`, () => {
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

    it('reads back the snapshots it saved', async () => {
      const store = await openFresh();
      const orders = snapshotOf(modelNamed('shop.orders', { owner: 'alice' }));
      const external = { ...snapshotOf(modelNamed('raw.orders')), table: undefined };

      await saveSnapshots(store, [orders, external]);

      const read = await readSnapshots(store, [orders.id, external.id]);
      expect(read).toEqual(
        new Map([
          [orders.id, orders],
          [external.id, external],
        ]),
      );
    });

    it('reads no snapshot for an empty list of ids', async () => {
      const store = await openFresh();

      expect(await readSnapshots(store, [])).toEqual(new Map());
    });

    it('names the id it does not hold', async () => {
      const store = await openFresh();
      const orders = snapshotOf(modelNamed('shop.orders'));
      await saveSnapshots(store, [orders]);

      const error = await errorOf(readSnapshots(store, [orders.id, 'shop.gone/000000000000/x']));

      expect(error.code).toBe('state_error');
      expect(error.message).toContain("holds no snapshot 'shop.gone/000000000000/x'");
    });

    it('saves and reads more snapshots than one statement carries', async () => {
      const store = await openFresh();
      const snapshots = Array.from({ length: 620 }, (_, index) =>
        snapshotOf(modelNamed(`shop.model_${index}`)),
      );

      await saveSnapshots(store, snapshots);

      const ids = snapshots.map((snapshot) => snapshot.id);
      const read = await readSnapshots(store, ids);
      expect([...read.values()].sort(byId)).toEqual([...snapshots].sort(byId));
      const versions = await readVersions(store, snapshots.map(versionIdOf));
      expect(versions.size).toBe(620);
      expect(await countRows(store, 'sluice_versions')).toBe(620);
    });

    it('leaves stored snapshots as they are when saved again', async () => {
      const store = await openFresh();
      const orders = snapshotOf(modelNamed('shop.orders'));
      const items = snapshotOf(modelNamed('shop.items'));
      await saveSnapshots(store, [orders, items]);
      const storedBefore = await definitionOf(store, orders.id);

      await saveSnapshots(store, [orders, items, orders]);
      await saveSnapshots(store, [items]);

      expect(await countRows(store, 'sluice_snapshots')).toBe(2);
      expect(await countRows(store, 'sluice_versions')).toBe(2);
      expect((await definitionOf(store, orders.id)).equals(storedBefore)).toBe(true);
      expect((await readSnapshots(store, [orders.id])).get(orders.id)).toEqual(orders);
    });

    it('keeps one version row for snapshots that differ only in metadata', async () => {
      const store = await openFresh();
      const byAlice = snapshotOf(modelNamed('shop.orders', { owner: 'alice' }));
      const byBob = snapshotOf(modelNamed('shop.orders', { owner: 'bob' }));
      expect(byAlice.id).not.toBe(byBob.id);
      expect(versionIdOf(byAlice)).toBe(versionIdOf(byBob));

      await saveSnapshots(store, [byAlice]);
      await saveSnapshots(store, [byBob]);

      expect(await countRows(store, 'sluice_snapshots')).toBe(2);
      expect(await countRows(store, 'sluice_versions')).toBe(1);
      const version = await store.db.selectFrom('sluice_versions').selectAll().executeTakeFirst();
      expect(version).toMatchObject({
        id: versionIdOf(byAlice),
        model_name: 'shop.orders',
        version: byAlice.fingerprint.version,
        physical_schema: 'sluice__shop',
        physical_name: `orders__${byAlice.fingerprint.version}`,
        table_created_at: null,
      });
    });

    it('keeps a version row per version of one model', async () => {
      const store = await openFresh();
      const first = snapshotOf(modelNamed('shop.orders'), 'first');
      const second = snapshotOf(modelNamed('shop.orders', { query: 'SELECT 2' }), 'second');

      await saveSnapshots(store, [first, second]);

      const versions = await readVersions(store, [versionIdOf(first), versionIdOf(second)]);
      expect([...versions.keys()].sort()).toEqual([versionIdOf(first), versionIdOf(second)].sort());
    });

    it('stores no definition in plain text', async () => {
      const store = await openFresh();
      const orders = snapshotOf(modelNamed('shop.orders', { owner: 'alice.secret.owner' }));

      await saveSnapshots(store, [orders]);

      const stored = await definitionOf(store, orders.id);
      expect(stored.length).toBeGreaterThan(QUERY_TEXT.length);
      for (const text of [QUERY_TEXT, 'marker_amount_7f3a', 'alice.secret.owner', 'ordered_at']) {
        expect(stored.includes(Buffer.from(text, 'utf8'))).toBe(false);
      }
    });

    it('refuses a definition copied onto another snapshot row', async () => {
      const store = await openFresh();
      const orders = snapshotOf(modelNamed('shop.orders'));
      const items = snapshotOf(modelNamed('shop.items'));
      await saveSnapshots(store, [orders, items]);

      await store.db
        .updateTable('sluice_snapshots')
        .set({ definition: await definitionOf(store, orders.id) })
        .where('id', '=', items.id)
        .execute();

      const error = await errorOf(readSnapshots(store, [items.id]));
      expect(error.code).toBe('payload_undecryptable');
      expect(error.message).toContain(`'sluice_snapshots.definition' of row '${items.id}'`);
      expect(error.message).not.toContain(QUERY_TEXT);
      expect((await readSnapshots(store, [orders.id])).get(orders.id)).toEqual(orders);
    });

    it('leaves out versions it does not hold', async () => {
      const store = await openFresh();
      const orders = snapshotOf(modelNamed('shop.orders'));
      await saveSnapshots(store, [orders]);

      const versions = await readVersions(store, [versionIdOf(orders), 'shop.gone/000000000000']);

      expect(versions).toEqual(
        new Map([[versionIdOf(orders), { id: versionIdOf(orders), tableCreatedAt: undefined }]]),
      );
    });

    it('records when a version table was created, once', async () => {
      const store = await openFresh();
      const orders = snapshotOf(modelNamed('shop.orders'));
      const items = snapshotOf(modelNamed('shop.items'));
      await saveSnapshots(store, [orders, items]);
      const ids = [versionIdOf(orders), versionIdOf(items)];
      const firstTime = new Date('2024-03-01T10:00:00.000Z');

      await markTableCreated(store, versionIdOf(orders), firstTime);
      await markTableCreated(store, versionIdOf(orders), new Date('2024-03-02T10:00:00.000Z'));

      const versions = await readVersions(store, ids);
      expect(versions.get(versionIdOf(orders))?.tableCreatedAt).toBe(firstTime.toISOString());
      expect(versions.get(versionIdOf(items))?.tableCreatedAt).toBeUndefined();
    });
  });
}

function byId(a: Snapshot, b: Snapshot): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
