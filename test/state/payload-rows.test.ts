import { afterEach, describe, expect, it } from 'vitest';
import { bytesType } from '../../src/state/migrations/column-types.js';
import { openStateStore } from '../../src/state/open-state-store.js';
import { type PayloadRowCondition, readPayloadRows } from '../../src/state/payload-rows.js';
import { ROWS_PER_BATCH } from '../../src/state/postgres/postgres-payload-reader.js';
import type { StateStore } from '../../src/state/state-store.js';
import { internalsOf } from '../../src/state/store-internals.js';
import { errorOf } from '../helpers/errors.js';
import {
  stateBackendsUnderTest,
  type TestStateLocation,
  testKeyRing,
  testStateKey,
} from '../helpers/state-backends.js';

const ring = testKeyRing(testStateKey('k1'));
const TABLE = 'payload_rows_sample';
/** Enough rows for several PostgreSQL batches and for the decryption workers to take a share. */
const ROW_COUNT = ROWS_PER_BATCH * 2 + 321;

/** The query most tests read with: every column of the sample table, in seq order. */
const SAMPLE_QUERY = {
  table: TABLE,
  columns: { id: 'text', seq: 'integer', label: 'text | null' },
  idColumn: 'id',
  payloadColumn: 'body',
  orderBy: [{ column: 'seq' }],
} as const;

type SampleRow = { id: string; seq: number; label: string | null; body: string };

/** Row `index` of the sample: unusual text, NULLs, negative numbers, empty and large payloads. */
function sampleRow(index: number): SampleRow {
  const id = `row-${String(index).padStart(5, '0')}`;
  const label = index % 7 === 0 ? null : `ünïcödé ${index} 'quoted' \\ back`;
  let body = JSON.stringify({ index, note: 'x'.repeat(index % 300) });
  if (index === 5) body = '';
  if (index === 11) body = 'é'.repeat(600_000);
  return { id, seq: index - 100, label, body };
}

/** Creates the sample table in the store and writes `count` rows with encrypted bodies. */
async function writeSample(store: StateStore, count: number): Promise<SampleRow[]> {
  await store.db.schema
    .createTable(TABLE)
    .addColumn('id', 'text', (column) => column.primaryKey())
    .addColumn('seq', 'integer', (column) => column.notNull().unique())
    .addColumn('label', 'text')
    .addColumn('body', bytesType(store.backend), (column) => column.notNull())
    .execute();

  const rows = Array.from({ length: count }, (_, index) => sampleRow(index));
  await store.db.transaction().execute(async (trx) => {
    for (let start = 0; start < rows.length; start += 500) {
      const values = rows.slice(start, start + 500).map((row) => ({
        ...row,
        body: store.cipher.encrypt(row.body, { table: TABLE, column: 'body', rowId: row.id }),
      }));
      await trx.insertInto(TABLE).values(values).execute();
    }
  });
  return rows;
}

/** The rows as a plain Kysely query and the single-payload cipher read them. */
async function readOneByOne(store: StateStore): Promise<SampleRow[]> {
  const rows = await store.db.selectFrom(TABLE).selectAll().orderBy('seq').execute();
  return rows.map((row) => ({
    id: String(row.id),
    seq: Number(row.seq),
    label: row.label === null ? null : String(row.label),
    body: store.cipher.decryptText(row.body as Buffer, {
      table: TABLE,
      column: 'body',
      rowId: String(row.id),
    }),
  }));
}

async function moveBody(store: StateStore, fromId: string, toId: string): Promise<void> {
  const source = await store.db
    .selectFrom(TABLE)
    .select('body')
    .where('id', '=', fromId)
    .executeTakeFirstOrThrow();
  await store.db.updateTable(TABLE).set({ body: source.body }).where('id', '=', toId).execute();
}

function texts(rows: readonly { body: Buffer }[]): string[] {
  return rows.map((row) => row.body.toString('utf8'));
}

for (const backend of stateBackendsUnderTest()) {
  describe.skipIf(backend.skipReason !== '')(`payload rows on ${backend.name}`, () => {
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

    it('returns what a plain query decrypted one by one returns, in the same order', async () => {
      const store = await openFresh();
      const written = await writeSample(store, ROW_COUNT);

      const rows = await readPayloadRows(store, SAMPLE_QUERY);

      const expected = await readOneByOne(store);
      expect(rows.map((row) => ({ ...row, body: row.body.toString('utf8') }))).toEqual(expected);
      expect(expected).toEqual(written);
      expect(rows[5]?.body).toHaveLength(0);
      expect(rows[11]?.body.toString('utf8')).toBe(written[11]?.body);
    }, 60_000);

    it('applies conditions, descending order and the limit', async () => {
      const store = await openFresh();
      const written = await writeSample(store, 600);
      const ids = ['row-00003', 'row-00250', 'row-00599', 'row-09999'];

      const page = await readPayloadRows(store, {
        ...SAMPLE_QUERY,
        where: [
          { column: 'seq', op: '>=', value: 0 },
          { column: 'id', op: '<>', value: 'row-00598' },
        ],
        orderBy: [{ column: 'seq', direction: 'desc' }],
        limit: 3,
      });
      const chosen = await readPayloadRows(store, {
        ...SAMPLE_QUERY,
        where: [{ column: 'id', op: 'in', value: ids }],
      });

      const unlabelled = await readPayloadRows(store, {
        ...SAMPLE_QUERY,
        where: [
          { column: 'label', op: 'is null' },
          { column: 'seq', op: '<', value: 0 },
        ],
      });
      const labelled = await readPayloadRows(store, {
        ...SAMPLE_QUERY,
        where: [{ column: 'label', op: 'is not null' }],
      });

      expect(page.map((row) => row.seq)).toEqual([499, 497, 496]);
      expect(unlabelled.map((row) => row.id)).toEqual(
        [0, 7, 14, 21, 28, 35, 42, 49, 56, 63, 70, 77, 84, 91, 98].map(
          (index) => sampleRow(index).id,
        ),
      );
      expect(labelled).toHaveLength(600 - 86);
      expect(texts(page)).toEqual([599, 597, 596].map((index) => written[index]?.body));
      expect(chosen.map((row) => row.id)).toEqual(['row-00003', 'row-00250', 'row-00599']);
    });

    it('reads condition values as data, quotes and backslashes included', async () => {
      const store = await openFresh();
      await writeSample(store, 30);
      const label = sampleRow(4).label ?? '';

      const found = await readPayloadRows(store, {
        ...SAMPLE_QUERY,
        where: [{ column: 'label', op: '=', value: label }],
      });
      const injected = await readPayloadRows(store, {
        ...SAMPLE_QUERY,
        where: [{ column: 'id', op: '=', value: "row-00001' OR 'a' = 'a" }],
      });

      expect(found.map((row) => row.id)).toEqual(['row-00004']);
      expect(injected).toEqual([]);
    });

    it('returns no rows for an empty table, an empty list or a condition none passes', async () => {
      const store = await openFresh();
      await writeSample(store, 0);
      const empty = await readPayloadRows(store, SAMPLE_QUERY);
      await store.db
        .insertInto(TABLE)
        .values({ id: 'a', seq: 1, label: null, body: Buffer.from([1]) })
        .execute();

      const noIds = await readPayloadRows(store, {
        ...SAMPLE_QUERY,
        where: [{ column: 'id', op: 'in', value: [] }],
      });
      const noneAbove = await readPayloadRows(store, {
        ...SAMPLE_QUERY,
        where: [{ column: 'seq', op: '>', value: 1 }],
      });

      expect([empty, noIds, noneAbove]).toEqual([[], [], []]);
    });

    it('rejects the first payload in order that was moved from another row', async () => {
      const store = await openFresh();
      await writeSample(store, ROW_COUNT);
      await moveBody(store, 'row-04000', 'row-04001');
      await moveBody(store, 'row-00200', 'row-00201');

      const error = await errorOf(readPayloadRows(store, SAMPLE_QUERY));

      expect(error.code).toBe('payload_undecryptable');
      expect(error.message).toContain(`'${TABLE}.body' of row 'row-00201'`);
    }, 60_000);

    it('rejects a payload whose stored bytes were altered', async () => {
      const store = await openFresh();
      await writeSample(store, ROW_COUNT);
      const stored = await store.db
        .selectFrom(TABLE)
        .select('body')
        .where('id', '=', 'row-03000')
        .executeTakeFirstOrThrow();
      const altered = Buffer.from(stored.body as Buffer);
      altered[altered.length - 1] = (altered.at(-1) ?? 0) ^ 1;
      await store.db
        .updateTable(TABLE)
        .set({ body: altered })
        .where('id', '=', 'row-03000')
        .execute();

      const error = await errorOf(readPayloadRows(store, SAMPLE_QUERY));

      expect(error.code).toBe('payload_undecryptable');
      expect(error.message).toContain("row 'row-03000'");
    }, 60_000);

    it('reports a NULL in a column declared without null, naming the column', async () => {
      const store = await openFresh();
      await writeSample(store, 10);

      const error = await errorOf(
        readPayloadRows(store, { ...SAMPLE_QUERY, columns: { id: 'text', label: 'text' } }),
      );

      expect(error.code).toBe('internal');
      expect(error.message).toContain(`'${TABLE}.label' of row 'row-00000'`);
    });

    it('refuses names and operators that are not plain SQL before querying', async () => {
      const store = await openFresh();
      const injectedOperator = { column: 'seq', op: '> 0 OR 1 =', value: 1 };

      const badName = await errorOf(
        readPayloadRows(store, {
          ...SAMPLE_QUERY,
          orderBy: [{ column: 'seq; DROP TABLE payload_rows_sample' }],
        }),
      );
      const badOperator = await errorOf(
        readPayloadRows(store, {
          ...SAMPLE_QUERY,
          where: [injectedOperator as unknown as PayloadRowCondition],
        }),
      );

      expect([badName.code, badOperator.code]).toEqual(['internal', 'internal']);
      expect(badName.message).toContain('is not a lower-case SQL identifier');
      expect(badOperator.message).toContain("'> 0 OR 1 =' is not a comparison");
    });

    it('keeps serving reads after a read the database refused', async () => {
      const store = await openFresh();
      await writeSample(store, 20);

      const refused = await readPayloadRows(store, {
        ...SAMPLE_QUERY,
        columns: { id: 'text', missing: 'text' },
      }).catch((error: unknown) => error);
      const rows = await readPayloadRows(store, { ...SAMPLE_QUERY, limit: 5 });

      expect(refused).toBeInstanceOf(Error);
      expect(String(refused)).toContain('missing');
      expect(rows.map((row) => row.seq)).toEqual([-100, -99, -98, -97, -96]);
    });
  });
}

type BatchReader = NonNullable<ReturnType<typeof internalsOf>['readPayloadRowBatches']>;

const postgres = stateBackendsUnderTest().find((backend) => backend.name === 'postgres');

describe.skipIf(postgres === undefined || postgres.skipReason !== '')(
  'payload rows through binary COPY on postgres',
  () => {
    let test: TestStateLocation | undefined;
    let store: StateStore | undefined;

    afterEach(async () => {
      await store?.close();
      await test?.cleanup();
      store = undefined;
      test = undefined;
    });

    async function openSample(): Promise<{ store: StateStore; readBatches: BatchReader }> {
      test = await postgres?.create();
      if (test === undefined) throw new Error('no PostgreSQL location');
      store = await openStateStore({ location: test.location, keyRing: ring, shouldMigrate: true });
      await writeSample(store, ROW_COUNT);
      const readBatches = internalsOf(store).readPayloadRowBatches;
      if (readBatches === undefined) throw new Error('the PostgreSQL backend has no COPY reader');
      return { store, readBatches };
    }

    it('hands rows on in batches as they arrive, each payload the stored bytes', async () => {
      const { store, readBatches } = await openSample();

      const batches = [];
      for await (const batch of readBatches(SAMPLE_QUERY)) batches.push(batch);

      const stored = await store.db
        .selectFrom(TABLE)
        .select(['id', 'body'])
        .orderBy('seq')
        .execute();
      expect(batches.length).toBeGreaterThan(1);
      expect(batches.slice(0, -1).every((batch) => batch.length >= ROWS_PER_BATCH)).toBe(true);
      expect(batches.flat().map((row) => [row.id, row.body])).toEqual(
        stored.map((row) => [row.id, row.body]),
      );
    }, 60_000);

    it('closes a connection left in the middle of a COPY and keeps serving reads', async () => {
      const { store, readBatches } = await openSample();

      for await (const batch of readBatches(SAMPLE_QUERY)) {
        expect(batch.length).toBeGreaterThanOrEqual(ROWS_PER_BATCH);
        break;
      }
      const rows = await readPayloadRows(store, { ...SAMPLE_QUERY, limit: 3 });

      expect(rows.map((row) => row.seq)).toEqual([-100, -99, -98]);
    }, 60_000);
  },
);
