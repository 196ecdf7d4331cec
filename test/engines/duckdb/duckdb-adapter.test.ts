import { spawn } from 'node:child_process';
import { access, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SluiceError } from '../../../src/core/errors.js';
import { openDuckDbAdapter } from '../../../src/engines/duckdb/duckdb-adapter.js';
import type { EngineAdapter } from '../../../src/engines/engine-adapter.js';

function open(
  settings: Record<string, string | number | boolean>,
  baseDir = tmpdir(),
): Promise<EngineAdapter> {
  return openDuckDbAdapter({ gateway: 'local', type: 'duckdb', settings, baseDir });
}

async function failure(promise: Promise<unknown>): Promise<SluiceError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(SluiceError);
  return error as SluiceError;
}

function scratchFolder(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'sluice-duckdb-'));
}

describe('DuckDB database files', () => {
  it('creates .sluice/<gateway>.duckdb under the project when no database is set', async () => {
    const root = await scratchFolder();

    const adapter = await open({}, root);
    await adapter.execute('CREATE TABLE kept (id INTEGER)');
    await adapter.close();

    await expect(access(join(root, '.sluice', 'local.duckdb'))).resolves.toBeUndefined();
  });

  it('resolves a relative database path against the project and keeps data across opens', async () => {
    const root = await scratchFolder();
    const first = await open({ database: 'data/warehouse.duckdb', threads: 2 }, root);
    await first.execute('CREATE TABLE orders (id INTEGER)');
    await first.execute('INSERT INTO orders VALUES (1), (2)');
    await first.close();

    const second = await open({ database: join(root, 'data', 'warehouse.duckdb'), threads: 2 });
    const result = await second.query('SELECT count(*) AS n FROM orders');
    await second.close();

    expect(result.rows).toEqual([{ n: 2 }]);
  });

  it('shares one open file between adapters of the same process', async () => {
    const database = join(await scratchFolder(), 'shared.duckdb');
    const first = await open({ database });
    const second = await open({ database });

    await first.execute('CREATE TABLE shared (id INTEGER)');
    await first.execute('INSERT INTO shared VALUES (7)');
    await first.close();
    const result = await second.query('SELECT id FROM shared');
    await second.close();

    expect(result.rows).toEqual([{ id: 7 }]);
  });

  it('keeps a schema named like the database file unambiguous', async () => {
    const database = join(await scratchFolder(), 'shop.duckdb');
    const adapter = await open({ database });

    await adapter.createSchema('shop');
    await adapter.execute('CREATE TABLE shop.orders (id INTEGER)');
    await adapter.execute('INSERT INTO shop.orders VALUES (1)');
    const result = await adapter.query('SELECT id FROM shop.orders');
    await adapter.close();

    expect(result.rows).toEqual([{ id: 1 }]);
  });

  it('refuses to open one file twice in a process with different settings', async () => {
    const database = join(await scratchFolder(), 'settings.duckdb');
    const first = await open({ database, threads: 1 });

    const error = await failure(open({ database, threads: 2 }));
    await first.close();

    expect(error.code).toBe('engine_unreachable');
    expect(error.message).toContain("the same 'threads' and 'memory_limit'");
  });

  it('explains that a file locked by another process admits one writer', async () => {
    const database = join(await scratchFolder(), 'locked.duckdb');
    const holder = await holdDatabase(database);

    try {
      const error = await failure(open({ database }));

      expect(error.code).toBe('engine_unreachable');
      expect(error.message).toContain(database);
      expect(error.message).toContain('admits one writing process');
    } finally {
      holder.kill();
    }
  });

  it('refuses unknown settings and threads that are not a positive whole number', async () => {
    const unknown = await failure(open({ database: ':memory:', thread: 4 }));
    const threads = await failure(open({ database: ':memory:', threads: 0 }));
    const memory = await failure(open({ database: ':memory:', memory_limit: 'lots' }));

    expect(unknown.code).toBe('config_invalid');
    expect(unknown.message).toContain("Did you mean 'threads'?");
    expect(threads.code).toBe('config_invalid');
    expect(memory.code).toBe('config_invalid');
    expect(memory.message).toContain("memory_limit 'lots'");
  });

  it('reports a closed adapter as unreachable on ping', async () => {
    const adapter = await open({ database: ':memory:' });
    await adapter.ping();

    await adapter.close();

    expect((await failure(adapter.ping())).code).toBe('engine_unreachable');
  });
});

describe('DuckDB values and sessions', () => {
  let adapter: EngineAdapter;

  beforeAll(async () => {
    adapter = await open({ database: ':memory:' });
  });

  afterAll(async () => {
    await adapter.close();
  });

  it('maps DuckDB-only types to plain JavaScript values', async () => {
    const result = await adapter.query(
      [
        'SELECT 170141183460469231731687303715884105727::HUGEINT AS huge, 12::HUGEINT AS small,',
        "TIME '01:02:03' AS time_value, INTERVAL 3 DAY AS interval_value,",
        "'00000000-0000-0000-0000-000000000001'::UUID AS uuid_value, '{\"a\": 1}'::JSON AS json_value,",
        "[1, 2] AS list_value, {'x': DATE '2024-01-02'} AS struct_value,",
        "'infinity'::TIMESTAMP AS endless, TIMESTAMPTZ '2024-01-02 03:04:05+02' AS zoned",
      ].join(' '),
    );

    expect(result.rows).toEqual([
      {
        huge: '170141183460469231731687303715884105727',
        small: 12,
        time_value: '01:02:03',
        interval_value: '3 days',
        uuid_value: '00000000-0000-0000-0000-000000000001',
        json_value: '{"a": 1}',
        list_value: [1, 2],
        struct_value: { x: '2024-01-02' },
        endless: 'infinity',
        zoned: new Date('2024-01-02T01:04:05Z'),
      },
    ]);
    expect(result.columns.map((column) => column.type)).toContain('JSON');
    expect(result.columns.find((column) => column.name === 'zoned')?.type).toBe(
      'TIMESTAMP WITH TIME ZONE',
    );
  });

  it('casts between zoned and plain timestamps in UTC whatever the machine zone', async () => {
    const result = await adapter.query(
      "SELECT CAST(TIMESTAMPTZ '2024-01-01 23:30:00+00' AS DATE) AS day",
    );

    expect(result.rows).toEqual([{ day: '2024-01-01' }]);
  });

  it('refuses transaction statements outside transaction()', async () => {
    const error = await failure(adapter.execute('BEGIN TRANSACTION'));

    expect(error.code).toBe('internal');
    expect(error.message).toContain('adapter.transaction()');
  });

  it('runs calls started together inside a transaction one after another', async () => {
    await adapter.execute('CREATE TABLE together (id INTEGER)');

    await adapter.transaction(async (session) => {
      await Promise.all(
        [1, 2, 3, 4].map((id) => session.execute('INSERT INTO together VALUES ($1)', [id])),
      );
    });

    expect((await adapter.query('SELECT count(*) AS n FROM together')).rows).toEqual([{ n: 4 }]);
  });

  it('refuses a transaction session used after the transaction ended', async () => {
    let leaked: Parameters<Parameters<EngineAdapter['transaction']>[0]>[0] | undefined;
    await adapter.transaction(async (session) => {
      leaked = session;
    });

    const error = await failure(leaked?.query('SELECT 1') ?? Promise.resolve());

    expect(error.message).toContain('The transaction has ended');
  });

  it('names the row and column of a bulk-loaded value that does not convert', async () => {
    await adapter.execute('CREATE TABLE typed (id INTEGER, day DATE)');

    const error = await failure(
      adapter.bulkLoad(
        { schema: 'main', name: 'typed' },
        ['id', 'day'],
        [
          [1, '2024-01-01'],
          [2, 'someday'],
        ],
      ),
    );

    expect(error.code).toBe('engine_error');
    expect(error.message).toContain("row 2, column 'day' (DATE)");
  });

  it('rejects a bulk load into a table that does not exist', async () => {
    const error = await failure(
      adapter.bulkLoad({ schema: 'main', name: 'nowhere' }, ['id'], [[1]]),
    );

    expect(error.code).toBe('table_missing');
  });

  it('reports the CSV line and column of a value that does not convert', async () => {
    await adapter.execute('CREATE TABLE from_csv (id INTEGER, amount DOUBLE)');
    const path = join(await scratchFolder(), 'amounts.csv');
    await writeFile(path, 'id,amount\n1,2.5\n2,lots\n');

    const error = await failure(
      adapter.loadCsvFile({ schema: 'main', name: 'from_csv' }, path, ['id', 'amount']),
    );

    expect(error.code).toBe('engine_error');
    expect(error.message).toContain('"amount"');
    expect(error.message).toContain('2,lots');
    expect(error.message).not.toContain('auto-detected');
  });
});

/** Starts another process that opens the database file and keeps it until killed. */
async function holdDatabase(database: string) {
  const script = [
    "const { DuckDBInstance } = require('@duckdb/node-api');",
    `DuckDBInstance.create(${JSON.stringify(database)}).then(() => console.log('open'));`,
    'setInterval(() => {}, 1000);',
  ].join('\n');
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`The holding process exited with ${code}`)));
  });
  return child;
}
