import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineConnection } from '../../src/engines/create-engine-adapter.js';
import { createEngineAdapter } from '../../src/engines/create-engine-adapter.js';
import type { EngineAdapter, TableName } from '../../src/engines/engine-adapter.js';
import { type EngineUnderTest, enginesUnderTest, type TestEngine } from '../helpers/engines.js';

/** What differs between the engines; everything else in this file runs unchanged on both. */
type EngineSpecifics = {
  /** A query that runs for many seconds unless cancelled. */
  readonly slowQuery: string;
  /** An INSERT into `table` (one INTEGER column `id`) that runs for many seconds. */
  slowInsert(table: string): string;
  /** describeTable's types for INTEGER NOT NULL, VARCHAR, DECIMAL(10,2), DATE, TIMESTAMP. */
  readonly describedTypes: readonly string[];
  readonly maxIdentifierBytes: number;
  /** A connection to an engine that cannot be reached; `dir` is an empty scratch folder. */
  unreachable(dir: string): Promise<EngineConnection>;
};

const SPECIFICS: Record<EngineUnderTest['name'], EngineSpecifics> = {
  duckdb: {
    slowQuery: 'SELECT count(*) AS n FROM range(1000000) AS a, range(1000000) AS b',
    slowInsert: (table) =>
      `INSERT INTO ${table} (id) SELECT count(*) FROM range(1000000) AS a, range(1000000) AS b`,
    describedTypes: ['INTEGER', 'VARCHAR', 'DECIMAL(10,2)', 'DATE', 'TIMESTAMP'],
    maxIdentifierBytes: Number.POSITIVE_INFINITY,
    unreachable: async (dir) => {
      // A database path whose parent is a file, not a folder.
      await writeFile(join(dir, 'not-a-folder'), 'x');
      const database = join(dir, 'not-a-folder', 'warehouse.duckdb');
      return { gateway: 'broken', type: 'duckdb', settings: { database }, baseDir: dir };
    },
  },
  postgres: {
    slowQuery: 'SELECT pg_sleep(30) AS n',
    slowInsert: (table) => `INSERT INTO ${table} (id) SELECT 1 FROM pg_sleep(30)`,
    describedTypes: ['INTEGER', 'VARCHAR', 'NUMERIC(10,2)', 'DATE', 'TIMESTAMP'],
    maxIdentifierBytes: 63,
    unreachable: async (dir) => ({
      gateway: 'broken',
      type: 'postgres',
      // Port 1 on loopback: nothing listens there, so the connection is refused at once.
      settings: { host: '127.0.0.1', port: 1, database: 'test', user: 'postgres' },
      baseDir: dir,
    }),
  },
};

for (const engine of enginesUnderTest()) {
  describe.skipIf(engine.skipReason !== '')(`${engine.name} adapter`, () => {
    const specifics = SPECIFICS[engine.name];
    let test: TestEngine;
    let adapter: EngineAdapter;
    let schema: string;
    let tableCount = 0;

    /** A fresh table name in the suite's schema, and its quoted form. */
    const newTable = (base: string): { table: TableName; quoted: string } => {
      tableCount += 1;
      const table = { schema, name: `${base}_${tableCount}` };
      return { table, quoted: adapter.quoteTable(table) };
    };
    const countRows = async (quoted: string) => {
      const result = await adapter.query(`SELECT count(*) AS n FROM ${quoted}`);
      return result.rows[0]?.n;
    };

    beforeAll(async () => {
      test = await engine.open();
      adapter = test.adapter;
      schema = test.schema('contract');
      await adapter.createSchema(schema);
    });

    afterAll(async () => {
      await test?.cleanup();
    });

    it('binds parameters of each type and returns the same JavaScript values', async () => {
      const result = await adapter.query(
        [
          'SELECT CAST($1 AS INTEGER) AS int_value, CAST($2 AS BIGINT) AS big_value,',
          'CAST($3 AS BIGINT) AS huge_value, CAST($4 AS DOUBLE PRECISION) AS double_value,',
          'CAST($5 AS VARCHAR) AS text_value, CAST($6 AS BOOLEAN) AS bool_value,',
          'CAST($7 AS TIMESTAMP) AS ts_value, CAST($8 AS DATE) AS date_value,',
          'CAST($9 AS DECIMAL(10,2)) AS decimal_value, CAST($10 AS INTEGER) AS null_value',
        ].join(' '),
        [
          42,
          9_000_000_000,
          9007199254740993n,
          2.5,
          'Zoë 🦆 日本語',
          true,
          new Date('2024-01-02T03:04:05.678Z'),
          '2024-02-29',
          '12.34',
          null,
        ],
      );

      expect(result.columns.map((column) => column.name)).toEqual([
        'int_value',
        'big_value',
        'huge_value',
        'double_value',
        'text_value',
        'bool_value',
        'ts_value',
        'date_value',
        'decimal_value',
        'null_value',
      ]);
      expect(result.rows).toEqual([
        {
          int_value: 42,
          big_value: 9_000_000_000,
          huge_value: '9007199254740993',
          double_value: 2.5,
          text_value: 'Zoë 🦆 日本語',
          bool_value: true,
          ts_value: new Date('2024-01-02T03:04:05.678Z'),
          date_value: '2024-02-29',
          decimal_value: 12.34,
          null_value: null,
        },
      ]);
    });

    it('returns counts as numbers and result column types in upper case', async () => {
      const result = await adapter.query(
        'SELECT count(*) AS n, CAST(1 AS INTEGER) AS one FROM (SELECT 1 AS x UNION ALL SELECT 2) AS t',
      );

      expect(result.rows).toEqual([{ n: 2, one: 1 }]);
      expect(result.columns[1]).toMatchObject({ name: 'one', type: 'INTEGER' });
    });

    it('reports the rows a statement changed', async () => {
      const { quoted } = newTable('changed');
      await adapter.execute(`CREATE TABLE ${quoted} (id INTEGER, label VARCHAR)`);

      const inserted = await adapter.execute(
        `INSERT INTO ${quoted} (id, label) VALUES ($1, $2), ($3, $4), ($5, $6)`,
        [1, 'a', 2, 'b', 3, 'c'],
      );
      const updated = await adapter.execute(`UPDATE ${quoted} SET label = $1 WHERE id >= $2`, [
        'z',
        2,
      ]);
      const deleted = await adapter.execute(`DELETE FROM ${quoted} WHERE id = $1`, [1]);

      expect([inserted, updated, deleted]).toEqual([3, 2, 1]);
    });

    it('commits a transaction and hides its rows from others until then', async () => {
      const { quoted } = newTable('committed');
      await adapter.execute(`CREATE TABLE ${quoted} (id INTEGER)`);

      const seenOutside = await adapter.transaction(async (session) => {
        await session.execute(`INSERT INTO ${quoted} (id) VALUES (1), (2)`);
        const inside = await session.query(`SELECT count(*) AS n FROM ${quoted}`);
        expect(inside.rows[0]?.n).toBe(2);
        return countRows(quoted);
      });

      expect(seenOutside).toBe(0);
      expect(await countRows(quoted)).toBe(2);
    });

    it('rolls back everything a transaction wrote when its work throws', async () => {
      const { quoted } = newTable('rolled_back');
      await adapter.execute(`CREATE TABLE ${quoted} (id INTEGER)`);
      await adapter.execute(`INSERT INTO ${quoted} (id) VALUES (1)`);

      const failing = adapter.transaction(async (session) => {
        await session.execute(`INSERT INTO ${quoted} (id) VALUES (2), (3)`);
        await session.execute(`DELETE FROM ${quoted} WHERE id = 1`);
        throw new Error('the work failed');
      });

      await expect(failing).rejects.toThrow('the work failed');
      const rows = await adapter.query(`SELECT id FROM ${quoted}`);
      expect(rows.rows).toEqual([{ id: 1 }]);
    });

    it('rolls back a transaction whose statement fails in the engine', async () => {
      const { quoted } = newTable('failed_statement');
      await adapter.execute(`CREATE TABLE ${quoted} (id INTEGER)`);

      const failing = adapter.transaction(async (session) => {
        await session.execute(`INSERT INTO ${quoted} (id) VALUES (1)`);
        await session.execute(`INSERT INTO ${quoted} (id) VALUES (CAST('x' AS INTEGER))`);
      });

      await expect(failing).rejects.toMatchObject({ code: 'engine_error' });
      expect(await countRows(quoted)).toBe(0);
    });

    it('creates a schema only once however often it is asked', async () => {
      const name = test.schema('twice');

      await adapter.createSchema(name);
      await adapter.createSchema(name);

      expect(await adapter.listTables(name)).toEqual([]);
    });

    it('creates a new schema from several connections at once', async () => {
      const names = Array.from({ length: 20 }, (_, index) => test.schema(`together_${index}`));

      for (const name of names) {
        await Promise.all(Array.from({ length: 4 }, () => adapter.createSchema(name)));
      }

      for (const name of names) expect(await adapter.listTables(name)).toEqual([]);
    });

    it('describes, finds and lists tables and views', async () => {
      const { table, quoted } = newTable('described');
      await adapter.execute(
        `CREATE TABLE ${quoted} (id INTEGER NOT NULL, name VARCHAR, amount DECIMAL(10,2), ` +
          'day DATE, seen_at TIMESTAMP)',
      );
      const view = { schema, name: `${table.name}_view` };
      await adapter.execute(`CREATE VIEW ${adapter.quoteTable(view)} AS SELECT id FROM ${quoted}`);
      const missing = { schema, name: 'no_such_table' };

      const columns = await adapter.describeTable(table);

      expect(columns?.map((column) => column.name)).toEqual([
        'id',
        'name',
        'amount',
        'day',
        'seen_at',
      ]);
      expect(columns?.map((column) => column.type)).toEqual(specifics.describedTypes);
      expect(columns?.map((column) => column.isNullable)).toEqual([false, true, true, true, true]);
      expect(await adapter.describeTable(view)).toEqual([
        { name: 'id', type: 'INTEGER', isNullable: true },
      ]);
      expect(await adapter.describeTable(missing)).toBeUndefined();
      expect(await adapter.tableExists(table)).toBe(true);
      expect(await adapter.tableExists(view)).toBe(true);
      expect(await adapter.tableExists(missing)).toBe(false);
      const listed = await adapter.listTables(schema);
      expect(listed).toContain(table.name);
      expect(listed).toContain(view.name);
      expect(listed).toEqual([...listed].sort());
    });

    it('bulk loads mixed types, nulls and unicode and reads them back', async () => {
      const { table, quoted } = newTable('bulk');
      await adapter.execute(
        `CREATE TABLE ${quoted} (id INTEGER NOT NULL, name VARCHAR(100), amount DECIMAL(10,2), ` +
          'day DATE, seen_at TIMESTAMP, active BOOLEAN, big BIGINT)',
      );
      const columns = ['id', 'name', 'amount', 'day', 'seen_at', 'active', 'big'];
      const awkward = 'tab\there, newline\nthere, "quotes", \\ and; semicolons';

      const loaded = await adapter.bulkLoad(table, columns, [
        [1, 'Zoë 🦆 日本語', 12.5, '2024-01-31', new Date('2024-01-31T10:00:00.123Z'), true, 7n],
        [2, null, null, null, null, null, null],
        [3, awkward, '7.25', '2024-03-01', '2024-03-01 12:30:00', false, 9007199254740993n],
        [4, '', 0, '1999-12-31', new Date('1999-12-31T23:59:59Z'), true, -5],
      ]);

      expect(loaded).toBe(4);
      const result = await adapter.query(`SELECT ${columns.join(', ')} FROM ${quoted} ORDER BY id`);
      expect(result.rows).toEqual([
        {
          id: 1,
          name: 'Zoë 🦆 日本語',
          amount: 12.5,
          day: '2024-01-31',
          seen_at: new Date('2024-01-31T10:00:00.123Z'),
          active: true,
          big: 7,
        },
        { id: 2, name: null, amount: null, day: null, seen_at: null, active: null, big: null },
        {
          id: 3,
          name: awkward,
          amount: 7.25,
          day: '2024-03-01',
          seen_at: new Date('2024-03-01T12:30:00Z'),
          active: false,
          big: '9007199254740993',
        },
        {
          id: 4,
          name: '',
          amount: 0,
          day: '1999-12-31',
          seen_at: new Date('1999-12-31T23:59:59Z'),
          active: true,
          big: -5,
        },
      ]);
    });

    it('bulk loads Dates into DATE, TIMESTAMP and TIMESTAMPTZ columns as UTC', async () => {
      const { table, quoted } = newTable('bulk_dates');
      await adapter.execute(
        `CREATE TABLE ${quoted} (id INTEGER, day DATE, plain TIMESTAMP, zoned TIMESTAMPTZ)`,
      );
      const instant = new Date('2024-06-30T23:15:00.250Z');

      await adapter.bulkLoad(
        table,
        ['id', 'day', 'plain', 'zoned'],
        [
          [1, instant, instant, instant],
          [2, '2024-07-01', '2024-07-01 08:00:00', '2024-07-01 08:00:00+02'],
        ],
      );

      const result = await adapter.query(`SELECT day, plain, zoned FROM ${quoted} ORDER BY id`);
      expect(result.rows).toEqual([
        { day: '2024-06-30', plain: instant, zoned: instant },
        {
          day: '2024-07-01',
          plain: new Date('2024-07-01T08:00:00Z'),
          zoned: new Date('2024-07-01T06:00:00Z'),
        },
      ]);
    });

    it('bulk loads named columns in any order from an async source', async () => {
      const { table, quoted } = newTable('bulk_async');
      await adapter.execute(`CREATE TABLE ${quoted} (id INTEGER, label VARCHAR, note VARCHAR)`);
      async function* rows() {
        yield ['first', 1];
        yield ['second', 2];
      }

      const loaded = await adapter.bulkLoad(table, ['label', 'id'], rows());

      expect(loaded).toBe(2);
      const result = await adapter.query(`SELECT id, label, note FROM ${quoted} ORDER BY id`);
      expect(result.rows).toEqual([
        { id: 1, label: 'first', note: null },
        { id: 2, label: 'second', note: null },
      ]);
    });

    it('leaves the table as it was when a bulk load fails part-way', async () => {
      const { table, quoted } = newTable('bulk_failed');
      await adapter.execute(`CREATE TABLE ${quoted} (id INTEGER, label VARCHAR)`);
      await adapter.execute(`INSERT INTO ${quoted} (id, label) VALUES (0, 'kept')`);
      const rows = Array.from({ length: 5000 }, (_, index) => [index + 1, `row ${index}`]);
      rows.push(['not a number', 'bad']);

      const loading = adapter.bulkLoad(table, ['id', 'label'], rows);

      await expect(loading).rejects.toMatchObject({ code: 'engine_error' });
      const result = await adapter.query(`SELECT id, label FROM ${quoted}`);
      expect(result.rows).toEqual([{ id: 0, label: 'kept' }]);
    });

    it('loads a CSV file with quoted commas, quotes and newlines', async () => {
      const { table, quoted } = newTable('csv');
      await adapter.execute(
        `CREATE TABLE ${quoted} (id INTEGER, name VARCHAR, note VARCHAR, amount DECIMAL(10,2))`,
      );
      const path = join(await scratchFolder(), 'people.csv');
      await writeFile(
        path,
        [
          'name,id,note,amount',
          '"Smith, Anna",1,"She said ""hi""',
          'and left",12.50',
          'Zoë 🦆,2,,',
          '"",3,"",0',
          '',
        ].join('\n'),
      );

      const loaded = await adapter.loadCsvFile(table, path, ['name', 'id', 'note', 'amount']);

      expect(loaded).toBe(3);
      const result = await adapter.query(
        `SELECT id, name, note, amount FROM ${quoted} ORDER BY id`,
      );
      expect(result.rows).toEqual([
        { id: 1, name: 'Smith, Anna', note: 'She said "hi"\nand left', amount: 12.5 },
        { id: 2, name: 'Zoë 🦆', note: null, amount: null },
        { id: 3, name: '', note: '', amount: 0 },
      ]);
    });

    it('loads nothing from a CSV file with a value that does not convert', async () => {
      const { table, quoted } = newTable('csv_bad');
      await adapter.execute(`CREATE TABLE ${quoted} (id INTEGER, name VARCHAR)`);
      const path = join(await scratchFolder(), 'bad.csv');
      await writeFile(path, 'id,name\n1,one\ntwo,two\n');

      const loading = adapter.loadCsvFile(table, path, ['id', 'name']);

      await expect(loading).rejects.toMatchObject({ code: 'engine_error' });
      expect(await countRows(quoted)).toBe(0);
    });

    it('cancels a long-running query', async () => {
      const controller = new AbortController();
      const running = adapter.query(specifics.slowQuery, [], { signal: controller.signal });
      const outcome = running.then(
        () => 'finished',
        (error: unknown) => error,
      );
      await sleep(300);

      controller.abort();

      expect(await outcome).toMatchObject({ code: 'query_cancelled' });
      expect((await adapter.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    });

    it('refuses to start a statement whose signal has already aborted', async () => {
      const { quoted } = newTable('pre_aborted');
      await adapter.execute(`CREATE TABLE ${quoted} (id INTEGER)`);

      const running = adapter.execute(`INSERT INTO ${quoted} (id) VALUES (1)`, [], {
        signal: AbortSignal.abort(),
      });

      await expect(running).rejects.toMatchObject({ code: 'query_cancelled' });
      expect(await countRows(quoted)).toBe(0);
    });

    it('keeps nothing of a transaction cancelled while a statement runs', async () => {
      const { quoted } = newTable('cancelled');
      await adapter.execute(`CREATE TABLE ${quoted} (id INTEGER)`);
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 300);

      const running = adapter.transaction(
        async (session) => {
          await session.execute(`INSERT INTO ${quoted} (id) VALUES (1), (2)`);
          await session.execute(specifics.slowInsert(quoted));
        },
        { signal: controller.signal },
      );

      await expect(running).rejects.toMatchObject({ code: 'query_cancelled' });
      expect(await countRows(quoted)).toBe(0);
    });

    it('quotes identifiers with embedded quotes so they round-trip', async () => {
      const table = { schema, name: 'odd "name" table' };
      const column = 'say "hello"';
      const quotedColumn = adapter.quoteIdentifier(column);
      await adapter.execute(`CREATE TABLE ${adapter.quoteTable(table)} (${quotedColumn} VARCHAR)`);
      await adapter.execute(`INSERT INTO ${adapter.quoteTable(table)} VALUES ('hi')`);

      const result = await adapter.query(
        `SELECT ${quotedColumn} FROM ${adapter.quoteTable(table)}`,
      );

      expect(result.rows).toEqual([{ [column]: 'hi' }]);
      expect((await adapter.describeTable(table))?.map((info) => info.name)).toEqual([column]);
      expect(await adapter.listTables(schema)).toContain(table.name);
      expect(adapter.maxIdentifierBytes).toBe(specifics.maxIdentifierBytes);
    });

    it('keeps bound parameter values out of error messages', async () => {
      const secret = 'hunter2-secret-value';

      const failure = await adapter.query('SELECT CAST($1 AS INTEGER) AS n', [secret]).then(
        () => undefined,
        (error: unknown) => error,
      );

      expect(failure).toMatchObject({ code: 'engine_error' });
      expect(String((failure as Error).message)).not.toContain(secret);
      expect(String(((failure as Error).cause as Error | undefined)?.message)).not.toContain(
        secret,
      );
    });

    it('reports a missing table and an unknown column type by code', async () => {
      const { quoted } = newTable('bad_type');

      const gone = adapter.quoteTable({ schema, name: 'gone' });

      await expect(adapter.query(`SELECT * FROM ${gone}`)).rejects.toMatchObject({
        code: 'table_missing',
      });
      await expect(
        adapter.execute(`CREATE TABLE ${quoted} (id NO_SUCH_TYPE)`),
      ).rejects.toMatchObject({ code: 'engine_type_rejected' });
    });

    it('runs concurrent statements side by side', async () => {
      const results = await Promise.all(
        Array.from({ length: 6 }, (_, index) => adapter.query('SELECT $1::INTEGER AS n', [index])),
      );

      expect(results.map((result) => result.rows[0]?.n)).toEqual([0, 1, 2, 3, 4, 5]);
    });

    it('reports an engine that cannot be reached as engine_unreachable', async () => {
      const connection = await specifics.unreachable(await scratchFolder());

      const opening = createEngineAdapter(connection).then(async (opened) => {
        try {
          await opened.ping();
        } finally {
          await opened.close();
        }
      });

      await expect(opening).rejects.toMatchObject({ code: 'engine_unreachable' });
    });
  });
}

function scratchFolder(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'sluice-adapter-'));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
