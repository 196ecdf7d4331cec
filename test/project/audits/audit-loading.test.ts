import { describe, expect, it } from 'vitest';
import { SluiceError, SluiceErrors } from '../../../src/core/errors.js';
import { auditSpecsOf } from '../../../src/project/audit-specs.js';
import { loadProject } from '../../../src/project/project-loader.js';
import { snapshotsOfProject } from '../../../src/project/project-snapshots.js';
import { MINIMAL_CONFIG, writeProject } from '../../helpers/temp-project.js';

const ORDERS_QUERY = "SELECT 1 AS order_id, 2 AS customer_id, 3.5 AS amount, 'new' AS status";

function ordersModel(audits: string, query = ORDERS_QUERY): string {
  return `MODEL (name shop.orders, kind FULL, audits (${audits}));\n${query}`;
}

async function load(files: Record<string, string>) {
  return loadProject(await writeProject({ 'sluice.yaml': MINIMAL_CONFIG, ...files }), {
    useCache: false,
  });
}

/** The messages of the load errors, with their `file:line` prefixes. */
async function loadErrors(files: Record<string, string>): Promise<string[]> {
  try {
    await load(files);
  } catch (error) {
    if (error instanceof SluiceErrors) return error.errors.map((inner) => inner.describe());
    if (error instanceof SluiceError) return [error.describe()];
    throw error;
  }
  throw new Error('the project loaded without errors');
}

const POSITIVE_AUDIT = `AUDIT (
  name assert_positive,
  dialect duckdb,
  blocking false,
  defaults (threshold := 0)
);
SELECT * FROM @this_model WHERE @column <= @threshold`;

describe('loading SQL audits', () => {
  it('reads the header, defaults and query of an audit file', async () => {
    const project = await load({
      'audits/positive.sql': POSITIVE_AUDIT,
      'models/orders.sql': ordersModel('assert_positive(column := amount)'),
    });

    const audit = project.audits.get('assert_positive');
    expect(audit).toMatchObject({
      name: 'assert_positive',
      dialect: 'duckdb',
      isBlocking: false,
      defaults: { threshold: 0 },
      query: {
        sql: 'SELECT * FROM @this_model WHERE @column <= @threshold',
        file: 'audits/positive.sql',
        line: 7,
      },
      origin: { file: 'audits/positive.sql', line: 1 },
    });
  });

  it('reads several AUDIT blocks from one file, each blocking unless it says otherwise', async () => {
    const project = await load({
      'audits/many.sql':
        'AUDIT (name first_audit);\nSELECT * FROM @this_model WHERE 1 = 0;\n\n' +
        'AUDIT (name second_audit, blocking false);\nSELECT * FROM @this_model WHERE 1 = 1;\n',
    });

    expect(project.audits.get('first_audit')?.isBlocking).toBe(true);
    expect(project.audits.get('first_audit')?.query.sql).toBe(
      'SELECT * FROM @this_model WHERE 1 = 0',
    );
    expect(project.audits.get('second_audit')?.isBlocking).toBe(false);
    expect(project.audits.get('second_audit')?.query.line).toBe(5);
  });

  it('reports an audit defined twice with both places', async () => {
    const errors = await loadErrors({
      'audits/a.sql': 'AUDIT (name twice);\nSELECT 1',
      'audits/b.sql': '\nAUDIT (name twice);\nSELECT 2',
    });

    expect(errors).toEqual([
      "audits/b.sql:2:1: Audit 'twice' is defined twice: here and in audits/a.sql:1; rename one of them or delete the copy",
    ]);
  });

  it('reports an unknown header property with its line and a suggestion', async () => {
    const errors = await loadErrors({
      'audits/a.sql': 'AUDIT (\n  name a,\n  blockng false\n);\nSELECT 1',
    });

    expect(errors).toEqual([
      "audits/a.sql:3:3: Unknown property 'blockng' in audit 'a'. Did you mean 'blocking'?",
    ]);
  });

  it('reports a standalone audit as not supported yet', async () => {
    const errors = await loadErrors({
      'audits/a.sql': 'AUDIT (name a, standalone true);\nSELECT 1',
    });

    expect(errors[0]).toContain("Property 'standalone' in audit 'a' is a SQLMesh feature");
    expect(errors[0]).toContain('does not support yet');
  });

  it('reports an audit file without a query, and one with two statements', async () => {
    const errors = await loadErrors({
      'audits/empty.sql': 'AUDIT (name empty);',
      'audits/two.sql': 'AUDIT (name two);\nSELECT 1;\nSELECT 2',
    });

    expect(errors).toEqual([
      "audits/empty.sql:1:1: Audit 'empty' in 'audits/empty.sql' has no query; write one SELECT of the failing rows after its AUDIT header",
      "audits/two.sql:3:1: Audit 'two' in 'audits/two.sql' has more than one statement; an audit is one SELECT of the failing rows (start another audit with its own AUDIT header)",
    ]);
  });

  it('reports a header syntax error as an AUDIT header problem', async () => {
    const errors = await loadErrors({ 'audits/a.sql': "AUDIT (name a, description 'x;\nSELECT 1" });

    expect(errors[0]).toMatch(/^audits\/a\.sql:1:\d+: .*AUDIT header/);
  });

  it('reports a file that does not start with an AUDIT header', async () => {
    const errors = await loadErrors({ 'audits/a.sql': 'SELECT 1' });

    expect(errors[0]).toContain("Audit file 'audits/a.sql' does not start with an AUDIT header");
  });
});

describe('checking the audits models reference', () => {
  it('accepts built-ins, their non-blocking variants and SQL audits with their parameters', async () => {
    const project = await load({
      'audits/positive.sql': POSITIVE_AUDIT,
      'models/orders.sql': ordersModel(
        'not_null(columns := (order_id, customer_id)), unique_values_non_blocking(columns := (order_id)), ' +
          "accepted_values(column := status, is_in := ('new', 'paid')), accepted_range(column := amount, min_v := 0), " +
          'number_of_rows(threshold := 1), forall(criteria := (amount > 0)), ' +
          'unique_combination_of_columns(columns := (order_id, status)), ' +
          'assert_positive(column := amount, threshold := 1)',
      ),
    });

    expect(project.models.get('shop.orders')?.audits).toHaveLength(8);
  });

  it('names an unknown audit with a suggestion over built-ins and project audits', async () => {
    const errors = await loadErrors({
      'audits/positive.sql': POSITIVE_AUDIT,
      'models/orders.sql': ordersModel(
        'not_nul(columns := (order_id)), assert_positiv(column := amount)',
      ),
    });

    expect(errors).toEqual([
      "models/orders.sql:1:1: Model 'shop.orders' audit 'not_nul' is not a built-in audit nor defined in audits/. Did you mean 'not_null'?",
      "models/orders.sql:1:1: Model 'shop.orders' audit 'assert_positiv' is not a built-in audit nor defined in audits/. Did you mean 'assert_positive'?",
    ]);
  });

  it('names a column the model does not have, with the columns it has', async () => {
    const errors = await loadErrors({
      'models/orders.sql': ordersModel('not_null(columns := (order_idd))'),
    });

    expect(errors).toEqual([
      "models/orders.sql:1:1: Model 'shop.orders' audit 'not_null' names column 'order_idd', which the model does not have; its columns are order_id, customer_id, amount, status",
    ]);
  });

  it('checks columns against declared columns first', async () => {
    const errors = await loadErrors({
      'models/orders.sql':
        'MODEL (name shop.orders, kind FULL, columns (id INT), audits (not_null(columns := (order_id))));\n' +
        'SELECT 1 AS order_id',
    });

    expect(errors[0]).toContain(
      "names column 'order_id', which the model does not have; its columns are id",
    );
  });

  it('skips the column check when the select list has a star or an unnamed expression', async () => {
    const project = await load({
      'models/a.sql': ordersModel(
        'not_null(columns := (anything))',
        'SELECT * FROM (SELECT 1 AS x) AS t',
      ),
      'models/b.sql':
        'MODEL (name shop.b, kind FULL, audits (not_null(columns := (anything))));\nSELECT 1 + 1',
    });

    expect(project.models.size).toBe(2);
  });

  it('reports unknown, missing and ill-shaped parameters of a built-in', async () => {
    const errors = await loadErrors({
      'models/orders.sql': ordersModel(
        'not_null(column := order_id), accepted_values(column := (status, amount), is_in := (1)), ' +
          'number_of_rows(threshold := -1), accepted_range(column := amount)',
      ),
    });

    expect(errors).toEqual([
      "models/orders.sql:1:1: Model 'shop.orders' audit 'not_null' has no parameter 'column'. Did you mean 'columns'?",
      "models/orders.sql:1:1: Model 'shop.orders' audit 'not_null' needs the parameter 'columns'; add `columns := ...`",
      "models/orders.sql:1:1: Model 'shop.orders' audit 'accepted_values' takes one column name such as id for 'column'",
      "models/orders.sql:1:1: Model 'shop.orders' audit 'number_of_rows' takes a non-negative whole number for 'threshold'",
      "models/orders.sql:1:1: Model 'shop.orders' audit 'accepted_range' needs at least one of 'min_v', 'max_v'",
    ]);
  });

  it('reports a list where one column is expected and one column where a list is', async () => {
    const errors = await loadErrors({
      'models/orders.sql': ordersModel('unique_values(columns := order_id)'),
    });

    expect(errors).toEqual([
      "models/orders.sql:1:1: Model 'shop.orders' audit 'unique_values' takes a list of column names such as (id, name) for 'columns'",
    ]);
  });

  it('reports unknown and missing parameters of a SQL audit', async () => {
    const errors = await loadErrors({
      'audits/positive.sql': POSITIVE_AUDIT,
      'models/orders.sql': ordersModel('assert_positive(colum := amount)'),
    });

    expect(errors).toEqual([
      "models/orders.sql:1:1: Model 'shop.orders' audit 'assert_positive' has no parameter 'colum'. Did you mean 'column'?",
      "models/orders.sql:1:1: Model 'shop.orders' audit 'assert_positive' needs the parameter 'column', which its query reads as @column and its defaults do not set; add `column := ...`",
    ]);
  });

  it('reports a SQL audit whose column argument the model lacks', async () => {
    const errors = await loadErrors({
      'audits/positive.sql': POSITIVE_AUDIT,
      'models/orders.sql': ordersModel('assert_positive(column := amount_usd)'),
    });

    expect(errors[0]).toContain("audit 'assert_positive' names column 'amount_usd'");
  });

  it('reports a SQL audit written in another dialect than the model', async () => {
    const errors = await loadErrors({
      'audits/pg.sql': 'AUDIT (name pg_only, dialect postgres);\nSELECT * FROM @this_model',
      'models/orders.sql': ordersModel('pg_only'),
    });

    expect(errors[0]).toContain(
      "Model 'shop.orders' audit 'pg_only' is written in postgres (audits/pg.sql) but the model is duckdb",
    );
  });
});

describe('audit specs on snapshots', () => {
  it('carries built-in references as they are and SQL audits with their definitions', async () => {
    const project = await load({
      'audits/positive.sql': POSITIVE_AUDIT.replace('blocking false', 'blocking true'),
      'models/orders.sql': ordersModel(
        'not_null_non_blocking(columns := (order_id)), assert_positive(column := amount), ' +
          'assert_positive_non_blocking(column := amount)',
      ),
    });
    const model = project.models.get('shop.orders');
    if (model === undefined) throw new Error('the project has no shop.orders');

    const specs = auditSpecsOf(model, project.audits);
    const definition = {
      name: 'assert_positive',
      dialect: 'duckdb',
      query: 'SELECT * FROM @this_model WHERE @column <= @threshold',
      defaults: { threshold: 0 },
    };
    expect(specs).toEqual([
      {
        name: 'not_null_non_blocking',
        isBlocking: false,
        args: { columns: ['order_id'] },
        definition: undefined,
      },
      { name: 'assert_positive', isBlocking: true, args: { column: 'amount' }, definition },
      {
        name: 'assert_positive_non_blocking',
        isBlocking: false,
        args: { column: 'amount' },
        definition,
      },
    ]);
    const snapshots = await snapshotsOfProject(project, undefined);
    expect(snapshots.get('shop.orders')?.audits).toEqual(specs);
  });
});
