import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createEngineAdapter } from '../../src/engines/create-engine-adapter.js';
import { enginesUnderTest, type TestEngine } from '../helpers/engines.js';
import { runCli, writeProject } from '../helpers/temp-project.js';

const DUCKDB_CONFIG = `name: test
gateways:
  local:
    connection:
      type: duckdb
      database: warehouse.duckdb
  down:
    connection:
      type: postgres
      host: 127.0.0.1
      port: 1
      database: test
      user: nobody
model_defaults:
  start: '2024-01-01'
`;

const DAILY = `MODEL (
  name shop.daily,
  kind INCREMENTAL_BY_TIME_RANGE (time_column day)
);

SELECT day, customer, amount, paid_at
FROM raw.orders
WHERE day BETWEEN @start_ds AND @end_ds
ORDER BY day, customer
`;

const ORDERS_SQL = [
  'CREATE SCHEMA raw',
  'CREATE TABLE raw.orders (day DATE, customer VARCHAR, amount DECIMAL(10, 2), paid_at TIMESTAMP)',
  `INSERT INTO raw.orders VALUES
     ('2024-01-01', 'Ada', 4.5, '2024-01-01 10:00:00'),
     ('2024-01-01', 'Hopper, "Amazing" Grace', 120, NULL),
     ('2024-01-02', 'Linus', 0.25, '2024-01-02 08:30:00.5'),
     ('2024-01-03', 'Margaret', 7, '2024-01-03 09:00:00')`,
];

/** Evaluates a model of the DuckDB project with extra arguments. */
function evaluate(root: string, ...args: string[]) {
  return runCli('--project', root, 'evaluate', ...args);
}

function expectCleanFailure(result: { code: number; stderr: string }) {
  expect(result.code).toBe(1);
  expect(result.stderr).toMatch(/^error: /);
  expect(result.stderr).not.toMatch(/\n\s+at /);
}

describe('sluice evaluate on DuckDB', () => {
  let root: string;

  beforeAll(async () => {
    root = await writeProject({
      'sluice.yaml': DUCKDB_CONFIG,
      'models/daily.sql': DAILY,
      'models/lost.sql': 'MODEL (name shop.lost, kind FULL);\nSELECT * FROM raw.missing\n',
      'models/broken.sql':
        "MODEL (name shop.broken, kind FULL);\n\nSELECT CAST('x' AS INTEGER) AS n\n",
      'models/people.sql': "MODEL (name shop.people, kind SEED (path '../seeds/people.csv'));\n",
      'seeds/people.csv': 'id,name\n1,Ada\n',
    });
    const adapter = await createEngineAdapter({
      gateway: 'local',
      type: 'duckdb',
      settings: { database: join(root, 'warehouse.duckdb') },
      baseDir: root,
    });
    try {
      for (const statement of ORDERS_SQL) await adapter.execute(statement);
    } finally {
      await adapter.close();
    }
  });

  it('prints the rows of the interval as an aligned table', async () => {
    const result = await evaluate(
      root,
      'shop.daily',
      '--start',
      '2024-01-01',
      '--end',
      '2024-01-02',
    );

    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      [
        'day        | customer                | amount | paid_at',
        '-----------+-------------------------+--------+------------------------',
        '2024-01-01 | Ada                     |    4.5 | 2024-01-01 10:00:00',
        '2024-01-01 | Hopper, "Amazing" Grace |    120 | NULL',
        '2024-01-02 | Linus                   |   0.25 | 2024-01-02 08:30:00.500',
        '(3 rows)',
        '',
      ].join('\n'),
    );
  });

  it('prints JSON with timestamps as ISO 8601 and NULL as null', async () => {
    const result = await evaluate(root, 'shop.daily', '--start', '2024-01-01', '--format', 'json');

    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      '[\n' +
        '  {"day":"2024-01-01","customer":"Ada","amount":4.5,"paid_at":"2024-01-01T10:00:00.000Z"},\n' +
        '  {"day":"2024-01-01","customer":"Hopper, \\"Amazing\\" Grace","amount":120,"paid_at":null}\n' +
        ']\n',
    );
    expect(JSON.parse(result.stdout)).toHaveLength(2);
  });

  it('prints RFC 4180 CSV with a header', async () => {
    const result = await evaluate(
      root,
      'shop.daily',
      '-s',
      '2024-01-01',
      '-e',
      '2024-01-01',
      '-f',
      'csv',
    );

    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      'day,customer,amount,paid_at\r\n' +
        '2024-01-01,Ada,4.5,2024-01-01 10:00:00\r\n' +
        '2024-01-01,"Hopper, ""Amazing"" Grace",120,\r\n',
    );
  });

  it('stops at --limit and says that more rows exist', async () => {
    const table = await evaluate(
      root,
      'shop.daily',
      '-s',
      '2024-01-01',
      '-e',
      '2024-01-03',
      '--limit',
      '2',
    );
    const csv = await evaluate(
      root,
      'shop.daily',
      '-s',
      '2024-01-01',
      '-e',
      '2024-01-03',
      '--limit',
      '1',
      '--format',
      'csv',
    );
    const all = await evaluate(
      root,
      'shop.daily',
      '-s',
      '2024-01-01',
      '-e',
      '2024-01-03',
      '--limit',
      '0',
    );

    expect(table.stdout).toMatch(/\n\(first 2 rows; more exist: pass --limit 0 to see all\)\n$/);
    expect(table.stdout.split('\n')).toHaveLength(6);
    expect(csv.stdout.split('\r\n')).toEqual([
      'day,customer,amount,paid_at',
      '2024-01-01,Ada,4.5,2024-01-01 10:00:00',
      '',
    ]);
    expect(csv.stderr).toBe('Printed the first 1 rows; pass --limit 0 to print all of them\n');
    expect(all.stdout).toMatch(/\n\(4 rows\)\n$/);
  });

  it('names the model, the gateway and the fix when an upstream table is missing', async () => {
    const result = await evaluate(root, 'shop.lost');

    expectCleanFailure(result);
    expect(result.stderr).toContain(
      "Model 'shop.lost' reads a table that does not exist on gateway 'local': ",
    );
    expect(result.stderr).toContain('missing');
    expect(result.stderr).toContain('; build the models it depends on first');
  });

  it('names the model, its file and the gateway when the engine fails the query', async () => {
    const result = await evaluate(root, 'shop.broken');

    expectCleanFailure(result);
    expect(result.stderr).toMatch(
      /^error: models\/broken\.sql:3:1: Model 'shop\.broken' failed on gateway 'local': DuckDB failed: Conversion Error/,
    );
  });

  it('reports an engine that cannot be reached, with the --gateway hint', async () => {
    const result = await evaluate(root, 'shop.daily', '--gateway', 'down');

    expectCleanFailure(result);
    expect(result.stderr).toContain(
      "Cannot reach PostgreSQL for gateway 'down' at 127.0.0.1:1/test",
    );
    expect(result.stderr).toContain("Cannot evaluate model 'shop.daily'");
    expect(result.stderr).toContain('pass --gateway NAME');
  });

  it('explains that a SEED model has no query to evaluate', async () => {
    const result = await evaluate(root, 'shop.people');

    expectCleanFailure(result);
    expect(result.stderr).toBe(
      "error: Model 'shop.people' is a SEED model: its rows come from seeds/people.csv; " +
        'evaluate a model that reads it\n',
    );
  });

  it('rejects an unknown gateway, format or limit', async () => {
    const gateway = await evaluate(root, 'shop.daily', '--gateway', 'locl');
    const format = await evaluate(root, 'shop.daily', '--format', 'xml');
    const limit = await evaluate(root, 'shop.daily', '--limit', 'ten');

    expectCleanFailure(gateway);
    expect(gateway.stderr).toContain(
      "Gateway 'locl' is not defined in sluice.yaml. Did you mean 'local'?",
    );
    expect(format.code).toBe(1);
    expect(format.stderr).toContain('xml');
    expectCleanFailure(limit);
    expect(limit.stderr).toContain("--limit 'ten' is not a whole number");
  });
});

const postgres = enginesUnderTest().find((engine) => engine.name === 'postgres');

describe.skipIf(postgres === undefined || postgres.skipReason !== '')(
  'sluice evaluate on PostgreSQL',
  () => {
    let engine: TestEngine;
    let root: string;
    let schema: string;

    beforeAll(async () => {
      engine = await (postgres as NonNullable<typeof postgres>).open();
      schema = engine.schema('raw');
      const table = engine.adapter.quoteTable({ schema, name: 'customers' });
      await engine.adapter.createSchema(schema);
      await engine.adapter.execute(`CREATE TABLE ${table} (id INTEGER, name TEXT, since DATE)`);
      await engine.adapter.execute(
        `INSERT INTO ${table} VALUES (1, 'Ada', '2024-01-01'), (2, 'Grace', NULL)`,
      );

      const url = new URL(inject('postgresUrl'));
      process.env.SLUICE_EVALUATE_TEST_USER = decodeURIComponent(url.username || 'postgres');
      process.env.SLUICE_EVALUATE_TEST_PASSWORD = decodeURIComponent(url.password);
      root = await writeProject({
        'sluice.yaml': [
          'name: test',
          'gateways:',
          '  warehouse:',
          '    connection:',
          '      type: postgres',
          `      host: ${url.hostname}`,
          `      port: ${url.port || 5432}`,
          `      database: ${url.pathname.slice(1) || 'postgres'}`,
          '      user: ${env:SLUICE_EVALUATE_TEST_USER}',
          ...(url.password === '' ? [] : ['      password: ${env:SLUICE_EVALUATE_TEST_PASSWORD}']),
          '',
        ].join('\n'),
        'models/names.sql':
          'MODEL (name shop.names, kind VIEW);\n' +
          `SELECT id, upper(name) AS name, since, @gateway AS gateway FROM ${schema}.customers ORDER BY id\n`,
      });
    });
    afterAll(async () => {
      await engine?.cleanup();
    });

    it('runs the query on the PostgreSQL gateway and prints its rows', async () => {
      const result = await runCli('--project', root, 'evaluate', 'shop.names');

      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(result.stdout).toBe(
        [
          'id | name  | since      | gateway',
          '---+-------+------------+----------',
          ' 1 | ADA   | 2024-01-01 | warehouse',
          ' 2 | GRACE | NULL       | warehouse',
          '(2 rows)',
          '',
        ].join('\n'),
      );
    });

    it('prints JSON from PostgreSQL', async () => {
      const result = await runCli('--project', root, 'evaluate', 'shop.names', '--format', 'json');

      expect(JSON.parse(result.stdout)).toEqual([
        { id: 1, name: 'ADA', since: '2024-01-01', gateway: 'warehouse' },
        { id: 2, name: 'GRACE', since: null, gateway: 'warehouse' },
      ]);
    });
  },
);
