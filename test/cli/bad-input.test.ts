import { describe, expect, it } from 'vitest';
import { MINIMAL_CONFIG, runCli, writeProject } from '../helpers/temp-project.js';

const ORDERS = "MODEL (name shop.orders, kind FULL);\nSELECT 1 AS id, DATE '2024-01-01' AS day\n";

async function dagOf(files: Record<string, string>, ...extra: string[]) {
  const root = await writeProject({ 'sluice.yaml': MINIMAL_CONFIG, ...files });
  return runCli('--project', root, 'dag', ...extra);
}

function expectCleanFailure(result: { code: number; stderr: string }) {
  expect(result.code).toBe(1);
  expect(result.stderr).toMatch(/^error: /);
  expect(result.stderr).not.toMatch(/\n\s+at /);
}

describe('bad input', () => {
  it('reports a malformed header with its file, line and column', async () => {
    const result = await dagOf({
      'models/orders.sql': 'MODEL (\n  name shop.orders,\n  kind FULL\n\nSELECT 1\n',
    });

    expectCleanFailure(result);
    expect(result.stderr).toMatch(/models\/orders\.sql:\d+:\d+: /);
  });

  it('names an unknown kind and suggests the closest one', async () => {
    const result = await dagOf({
      'models/orders.sql': 'MODEL (name shop.orders, kind INCREMENTAL_BY_TIME);\nSELECT 1\n',
    });

    expectCleanFailure(result);
    expect(result.stderr).toContain('models/orders.sql:1:');
    expect(result.stderr).toContain('INCREMENTAL_BY_TIME');
    expect(result.stderr).toContain('INCREMENTAL_BY_TIME_RANGE');
  });

  it('asks for the time_column of an incremental model', async () => {
    const result = await dagOf({
      'models/orders.sql':
        'MODEL (\n  name shop.orders,\n  kind INCREMENTAL_BY_TIME_RANGE (batch_size 7)\n);\nSELECT 1\n',
    });

    expectCleanFailure(result);
    expect(result.stderr).toContain('models/orders.sql:3:');
    expect(result.stderr).toContain('time_column');
  });

  it('places a SQL syntax error in the model file', async () => {
    const result = await dagOf({
      'models/orders.sql': 'MODEL (name shop.orders, kind FULL);\n\nSELECT id\nFORM shop.raw\n',
    });

    expectCleanFailure(result);
    expect(result.stderr).toContain('models/orders.sql:4:');
    expect(result.stderr).toContain("model 'shop.orders'");
  });

  it('names a reference to an undefined model and how to fix it', async () => {
    const result = await dagOf({
      'models/orders.sql': ORDERS,
      'models/revenue.sql':
        'MODEL (name shop.revenue, kind FULL);\nSELECT * FROM shop.orders JOIN shop.customers USING (id)\n',
    });

    expectCleanFailure(result);
    expect(result.stderr).toContain('models/revenue.sql:2:1');
    expect(result.stderr).toContain(
      "Model 'shop.revenue' depends on 'shop.customers', which is not defined; add it or declare it in external_models.yaml",
    );
  });

  it('names both files of a duplicate model', async () => {
    const result = await dagOf({ 'models/a.sql': ORDERS, 'models/b.sql': ORDERS });

    expectCleanFailure(result);
    expect(result.stderr).toContain('models/b.sql:1:');
    expect(result.stderr).toContain("Model 'shop.orders' is defined twice");
    expect(result.stderr).toContain('models/a.sql:1');
  });

  it('refuses a literal password in sluice.yaml without printing it', async () => {
    const root = await writeProject({
      'sluice.yaml': [
        'name: test',
        'gateways:',
        '  pg:',
        '    connection:',
        '      type: postgres',
        '      host: localhost',
        '      database: test',
        '      user: sluice',
        '      password: s3cr3t-value',
      ].join('\n'),
      'models/orders.sql': ORDERS,
    });
    const result = await runCli('--project', root, 'dag');

    expectCleanFailure(result);
    expect(result.stderr).toContain('sluice.yaml:9:7');
    expect(result.stderr).toContain('${env:PG_PASSWORD}');
    expect(result.stderr).not.toContain('s3cr3t-value');
  });

  it('names every model on a dependency cycle', async () => {
    const result = await dagOf({
      'models/a.sql': 'MODEL (name shop.a, kind FULL);\nSELECT * FROM shop.c\n',
      'models/b.sql': 'MODEL (name shop.b, kind FULL);\nSELECT * FROM shop.a\n',
      'models/c.sql': 'MODEL (name shop.c, kind FULL);\nSELECT * FROM shop.b\n',
      'models/d.sql': 'MODEL (name shop.d, kind FULL);\nSELECT * FROM shop.a\n',
    });

    expectCleanFailure(result);
    expect(result.stderr).toContain('shop.a → shop.c → shop.b → shop.a');
    expect(result.stderr).toContain('models/c.sql');
    expect(result.stderr).not.toContain('shop.d');
  });

  it('reports several broken files at once', async () => {
    const result = await dagOf({
      'models/a.sql': 'MODEL (name shop.a, kind NOPE);\nSELECT 1\n',
      'models/b.sql': 'MODEL (name shop.b, kind FULL, crn 1);\nSELECT 1\n',
    });

    expectCleanFailure(result);
    expect(result.stderr).toContain('models/a.sql');
    expect(result.stderr).toContain('models/b.sql');
  });

  it('prints the stack trace only with --debug', async () => {
    const root = await writeProject({
      'sluice.yaml': MINIMAL_CONFIG,
      'models/a.sql': 'MODEL (name shop.a, kind NOPE);\nSELECT 1\n',
    });
    const result = await runCli('--project', root, '--debug', 'dag');

    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/\n\s+at /);
  });

  it('explains a missing sluice.yaml', async () => {
    const root = await writeProject({ 'README.md': 'not a project' });
    const result = await runCli('--project', root, 'dag');

    expectCleanFailure(result);
    expect(result.stderr).toContain('No sluice.yaml in');
    expect(result.stderr).toContain('sluice init');
  });
});

describe('bad seeds', () => {
  const seedModel = (columns: string) =>
    `MODEL (\n  name shop.customers,\n  kind SEED (path '../seeds/customers.csv'),\n  columns (${columns})\n);\n`;

  it('names a seed file that does not exist and the path to fix', async () => {
    const result = await dagOf({ 'models/customers.sql': seedModel('id INT') });

    expectCleanFailure(result);
    expect(result.stderr).toContain('models/customers.sql:1:1');
    expect(result.stderr).toContain(
      "Seed file 'seeds/customers.csv' of model 'shop.customers' does not exist",
    );
  });

  it('names declared columns that the seed file lacks', async () => {
    const result = await dagOf({
      'models/customers.sql': seedModel('id INT, "Full Name" TEXT, country TEXT'),
      'seeds/customers.csv': 'id,"full name"\n1,Ada\n',
    });

    expectCleanFailure(result);
    expect(result.stderr).toContain(
      "declares column 'country' that seed file 'seeds/customers.csv' lacks",
    );
  });
});
