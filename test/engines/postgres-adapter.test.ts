import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SluiceError } from '../../src/core/errors.js';
import type { EngineAdapter } from '../../src/engines/engine-adapter.js';
import { openPostgresAdapter } from '../../src/engines/postgres/postgres-adapter.js';
import { enginesUnderTest, postgresTestSettings, type TestEngine } from '../helpers/engines.js';

const postgres = enginesUnderTest().find((engine) => engine.name === 'postgres');
const skipReason = postgres?.skipReason ?? 'no PostgreSQL engine is configured';

/** The test server's settings, as a gateway would give them. */
function open(settings: Record<string, string | number>): Promise<EngineAdapter> {
  return openPostgresAdapter({ gateway: 'warehouse', type: 'postgres', settings, baseDir: '.' });
}

async function failure(promise: Promise<unknown>): Promise<SluiceError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(SluiceError);
  return error as SluiceError;
}

describe('PostgreSQL adapter without a server', () => {
  it('reports an unreachable server by gateway and address, never with the password', async () => {
    const password = 'correct-horse-battery-staple';
    const settings = { host: '127.0.0.1', port: 1, database: 'shop', user: 'sluice', password };

    const error = await failure(open(settings));

    expect(error.code).toBe('engine_unreachable');
    expect(error.message).toContain("gateway 'warehouse'");
    expect(error.message).toContain('127.0.0.1:1/shop');
    expect(error.message).toContain('check that PostgreSQL runs at 127.0.0.1:1');
    expect(error.message).not.toContain(password);
    expect(error.message).not.toContain('postgres://');
  });

  it('refuses settings without a host before connecting', async () => {
    const error = await failure(open({ database: 'shop', user: 'sluice', port: 'abc' }));

    expect(error.code).toBe('config_invalid');
    expect(error.message).toContain("'host'");
  });
});

describe.skipIf(skipReason !== '')(`PostgreSQL adapter ${skipReason}`.trim(), () => {
  let engine: TestEngine;
  let adapter: EngineAdapter;
  let schema: string;
  let tableNumber = 0;

  beforeAll(async () => {
    engine = await (postgres as NonNullable<typeof postgres>).open();
    adapter = engine.adapter;
    schema = engine.schema('pgadapter');
    await adapter.createSchema(schema);
  });

  afterAll(async () => {
    await engine?.cleanup();
  });

  /** Creates a fresh table in the test schema and returns its name. */
  async function createTable(columns: string): Promise<{ schema: string; name: string }> {
    const table = { schema, name: `t${++tableNumber}` };
    await adapter.execute(`CREATE TABLE ${adapter.quoteTable(table)} (${columns})`);
    return table;
  }

  it('reports a database that does not exist as unreachable', async () => {
    const error = await failure(
      open({ ...postgresTestSettings(), database: 'no_such_database_x' }),
    );

    expect(error.code).toBe('engine_unreachable');
    expect(error.message).toContain('database "no_such_database_x" does not exist');
  });

  it('refuses identifiers longer than 63 bytes instead of letting PostgreSQL cut them', () => {
    expect(adapter.quoteIdentifier('a'.repeat(63))).toBe(`"${'a'.repeat(63)}"`);
    expect(() => adapter.quoteIdentifier('a'.repeat(64))).toThrow(/64 bytes long/);
    expect(() => adapter.quoteTable({ schema, name: 'é'.repeat(32) })).toThrowError(
      expect.objectContaining({ code: 'identifier_too_long' }),
    );
    expect(adapter.quoteIdentifier('say "hi"')).toBe('"say ""hi"""');
  });

  it('maps dates to text, timestamps to UTC Dates and int8 to numbers when safe', async () => {
    const result = await adapter.query(
      "SELECT DATE '2024-02-29' AS d, TIMESTAMP '2024-01-02 03:04:05.678' AS ts, " +
        "TIMESTAMPTZ '2024-01-02 03:04:05+02' AS tz, 42::int8 AS small, " +
        '9007199254740993::int8 AS big, 12.5::numeric(10,2) AS n, true AS b, NULL::text AS t',
    );

    expect(result.rows).toEqual([
      {
        d: '2024-02-29',
        ts: new Date('2024-01-02T03:04:05.678Z'),
        tz: new Date('2024-01-02T01:04:05Z'),
        small: 42,
        big: '9007199254740993',
        n: 12.5,
        b: true,
        t: null,
      },
    ]);
    expect(result.columns.map((column) => column.type)).toEqual([
      'DATE',
      'TIMESTAMP',
      'TIMESTAMPTZ',
      'BIGINT',
      'BIGINT',
      'NUMERIC(10,2)',
      'BOOLEAN',
      'TEXT',
    ]);
    expect(pg.types.getTypeParser(1082, 'text')('2024-02-29')).toBeInstanceOf(Date);
  });

  it('stores a Date parameter in a TIMESTAMP column as its UTC clock time', async () => {
    const table = await createTable('at TIMESTAMP, day DATE');
    const instant = new Date('2024-03-31T23:30:00.250Z');

    await adapter.execute(`INSERT INTO ${adapter.quoteTable(table)} VALUES ($1, $2)`, [
      instant,
      instant,
    ]);
    const result = await adapter.query(
      `SELECT at, at::text AS text, day FROM ${adapter.quoteTable(table)}`,
    );

    expect(result.rows).toEqual([
      { at: instant, text: '2024-03-31 23:30:00.25', day: '2024-03-31' },
    ]);
  });

  it('describes a table with upper-case type names', async () => {
    const table = await createTable(
      'id INTEGER NOT NULL, big BIGINT, name TEXT, price NUMERIC(10,2), day DATE, ' +
        'at TIMESTAMP, at_tz TIMESTAMPTZ, ok BOOLEAN, ratio DOUBLE PRECISION, code VARCHAR(20)',
    );

    const columns = await adapter.describeTable(table);

    expect(columns?.map((column) => `${column.name} ${column.type}`)).toEqual([
      'id INTEGER',
      'big BIGINT',
      'name TEXT',
      'price NUMERIC(10,2)',
      'day DATE',
      'at TIMESTAMP',
      'at_tz TIMESTAMPTZ',
      'ok BOOLEAN',
      'ratio DOUBLE PRECISION',
      'code VARCHAR(20)',
    ]);
    expect(columns?.[0]?.isNullable).toBe(false);
    expect(await adapter.describeTable({ schema, name: 'missing' })).toBeUndefined();
  });

  it('copies awkward values through COPY unchanged', async () => {
    const table = await createTable('id INTEGER, note TEXT, at TIMESTAMP, ok BOOLEAN');
    const notes = [
      'say "hi", then go',
      'line one\nline two\r\nthree',
      '\\.',
      'ünï 😀 中文',
      '',
      null,
    ];
    const at = new Date('2024-05-06T07:08:09.010Z');
    const rows = notes.map((note, index) => [
      index,
      note,
      index === 0 ? null : at,
      index % 2 === 0,
    ]);

    const count = await adapter.bulkLoad(table, ['id', 'note', 'at', 'ok'], rows);
    const result = await adapter.query(
      `SELECT id, note, at, ok FROM ${adapter.quoteTable(table)} ORDER BY id`,
    );

    expect(count).toBe(notes.length);
    expect(result.rows.map((row) => Object.values(row))).toEqual(rows);
  });

  it('loads a CSV file with a header and awkward values', async () => {
    const table = await createTable('id INTEGER, note TEXT');
    const folder = await mkdtemp(join(tmpdir(), 'sluice-pg-'));
    const path = join(folder, 'notes.csv');
    await writeFile(path, 'id,note\n1,"a ""quoted"", text"\n2,"two\nlines"\n3,\n4,""\n');

    const count = await adapter.loadCsvFile(table, path, ['id', 'note']);
    const result = await adapter.query(`SELECT note FROM ${adapter.quoteTable(table)} ORDER BY id`);

    expect(count).toBe(4);
    expect(result.rows.map((row) => row.note)).toEqual([
      'a "quoted", text',
      'two\nlines',
      null,
      '',
    ]);
  });

  it('names the line of a value COPY cannot convert and keeps the pool usable', async () => {
    const table = await createTable('id INTEGER, note TEXT');
    const rows = [
      [1, 'fine'],
      ['not-a-number', 'bad'],
      [3, 'fine'],
    ];

    const error = await failure(adapter.bulkLoad(table, ['id', 'note'], rows));
    const result = await adapter.query(
      `SELECT count(*)::int AS n FROM ${adapter.quoteTable(table)}`,
    );

    expect(error.code).toBe('engine_error');
    expect(error.message).toContain('line 2 of the data, column id');
    expect(error.message).not.toContain('not-a-number');
    expect(result.rows).toEqual([{ n: 0 }]);
  });

  it('cancels a running statement', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);

    const error = await failure(
      adapter.query('SELECT pg_sleep(30)', [], { signal: controller.signal }),
    );

    expect(error.code).toBe('query_cancelled');
  });

  it('rolls back a transaction whose statement is cancelled', async () => {
    const table = await createTable('id INTEGER');
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);

    const error = await failure(
      adapter.transaction(
        async (session) => {
          await session.execute(`INSERT INTO ${adapter.quoteTable(table)} VALUES (1)`);
          await session.query('SELECT pg_sleep(30)');
        },
        { signal: controller.signal },
      ),
    );
    const result = await adapter.query(
      `SELECT count(*)::int AS n FROM ${adapter.quoteTable(table)}`,
    );

    expect(error.code).toBe('query_cancelled');
    expect(result.rows).toEqual([{ n: 0 }]);
  });

  it('stops a bulk load whose signal aborts and keeps none of its rows', async () => {
    const table = await createTable('id INTEGER');
    const controller = new AbortController();
    async function* rows() {
      for (let id = 0; id < 1_000_000; id++) {
        if (id === 50_000) controller.abort();
        yield [id];
      }
    }

    const error = await failure(
      adapter.bulkLoad(table, ['id'], rows(), { signal: controller.signal }),
    );
    const result = await adapter.query(
      `SELECT count(*)::int AS n FROM ${adapter.quoteTable(table)}`,
    );

    expect(error.code).toBe('query_cancelled');
    expect(result.rows).toEqual([{ n: 0 }]);
  });

  it('rejects an already aborted signal before running anything', async () => {
    const table = await createTable('id INTEGER');

    const error = await failure(
      adapter.execute(`INSERT INTO ${adapter.quoteTable(table)} VALUES (1)`, [], {
        signal: AbortSignal.abort(),
      }),
    );
    const result = await adapter.query(
      `SELECT count(*)::int AS n FROM ${adapter.quoteTable(table)}`,
    );

    expect(error.code).toBe('query_cancelled');
    expect(result.rows).toEqual([{ n: 0 }]);
  });

  it('maps SQLSTATEs to error codes and keeps parameter values out of messages', async () => {
    const missing = await failure(adapter.query(`SELECT * FROM ${schema}.nowhere`));
    const badType = await failure(
      adapter.execute(`CREATE TABLE ${schema}.bad_type (x NO_SUCH_TYPE)`),
    );
    const badValue = await failure(adapter.query('SELECT $1::int AS n', ['secret-value-7']));

    expect(missing.code).toBe('table_missing');
    expect(badType.code).toBe('engine_type_rejected');
    expect(badType.message).toContain('written NO_SUCH_TYPE in the statement');
    expect(badValue.code).toBe('engine_error');
    expect(badValue.message).toContain('invalid input syntax for type integer');
    expect(badValue.message).not.toContain('secret-value-7');
  });

  it('reports a transaction whose failed statement was swallowed as not committed', async () => {
    const table = await createTable('id INTEGER PRIMARY KEY');

    const error = await failure(
      adapter.transaction(async (session) => {
        await session.execute(`INSERT INTO ${adapter.quoteTable(table)} VALUES (1)`);
        await session.execute(`INSERT INTO ${adapter.quoteTable(table)} VALUES (1)`).catch(() => 0);
      }),
    );
    const result = await adapter.query(
      `SELECT count(*)::int AS n FROM ${adapter.quoteTable(table)}`,
    );

    expect(error.message).toContain('rolled back');
    expect(result.rows).toEqual([{ n: 0 }]);
  });

  it('keeps no connection checked out after failed and cancelled transactions', async () => {
    const applicationName = `sluice-leak-${process.pid}-${Date.now()}`;
    const own = await open({ ...postgresTestSettings(), application_name: applicationName });
    try {
      for (let attempt = 0; attempt < 20; attempt++) {
        const controller = new AbortController();
        if (attempt % 4 === 0) setTimeout(() => controller.abort(), 50);
        const work = own.transaction(
          async (session) => {
            await session.query(attempt % 4 === 0 ? 'SELECT pg_sleep(5)' : 'SELECT 1/0');
          },
          { signal: controller.signal },
        );
        await expect(work).rejects.toBeInstanceOf(SluiceError);
      }

      const result = await own.query(
        'SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1',
        [applicationName],
      );

      expect((result.rows[0]?.n as number) <= 5).toBe(true);
    } finally {
      await own.close();
    }
  });

  it('creates the same schema from concurrent calls without failing', async () => {
    const name = engine.schema('race');

    await Promise.all([1, 2, 3, 4].map(() => adapter.createSchema(name)));

    expect(await adapter.listTables(name)).toEqual([]);
  });
});
