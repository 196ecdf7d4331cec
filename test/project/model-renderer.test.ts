import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TableResolver } from '../../src/core/table-resolver.js';
import { formatRenderedModel, renderModel } from '../../src/project/model-renderer.js';
import type { Project } from '../../src/project/project.js';
import { loadProject } from '../../src/project/project-loader.js';
import { createSqlParser, type SqlParser } from '../../src/sql/sql-parser.js';
import { MINIMAL_CONFIG, writeProject } from '../helpers/temp-project.js';

const DAY = {
  start: new Date('2024-03-01T00:00:00Z'),
  end: new Date('2024-03-02T00:00:00Z'),
  executionTime: new Date('2024-03-02T06:00:00Z'),
};

const physical: TableResolver = {
  resolve: (name) => ({ schema: 'sluice__shop', name: `${name.replace('.', '__')}__v1` }),
};

describe('rendering a model', () => {
  let project: Project;
  let parser: SqlParser;

  beforeAll(async () => {
    const root = await writeProject({
      'sluice.yaml': `${MINIMAL_CONFIG}variables:\n  region: eu\n`,
      'models/a.sql': 'MODEL (name shop.a, kind FULL);\nSELECT 1 AS id',
      'models/b.sql': [
        'MODEL (name shop.b, kind INCREMENTAL_BY_TIME_RANGE (time_column day));',
        "@DEF(kinds, ['x', 'y']);",
        'DELETE FROM shop.audit_log WHERE day = @start_ds;',
        '-- keep the comment',
        'WITH a AS (SELECT * FROM Shop.A) /* read a */',
        "SELECT a.id, @start_ds AS day, @VAR('region') AS region",
        'FROM a JOIN shop.a AS again USING (id)',
        'WHERE kind IN (@EACH(@kinds, k -> k)) AND id NOT IN (SELECT id FROM @this_model)',
      ].join('\n'),
    });
    project = await loadProject(root);
    parser = await createSqlParser();
  });

  afterAll(() => parser.close());

  it('expands macros and keeps names as written by default', async () => {
    const rendered = await renderModel(project, 'shop.b', DAY, parser);

    expect(rendered.preStatements).toEqual(["DELETE FROM shop.audit_log WHERE day = '2024-03-01'"]);
    expect(rendered.query).toBe(
      [
        '-- keep the comment',
        'WITH a AS (SELECT * FROM Shop.A) /* read a */',
        "SELECT a.id, '2024-03-01' AS day, 'eu' AS region",
        'FROM a JOIN shop.a AS again USING (id)',
        `WHERE kind IN ('x', 'y') AND id NOT IN (SELECT id FROM "shop"."b")`,
      ].join('\n'),
    );
  });

  it('points model references and @this_model at the tables a resolver names', async () => {
    const rendered = await renderModel(project, 'shop.b', { ...DAY, resolver: physical }, parser);

    expect(rendered.query).toContain('WITH a AS (SELECT * FROM "sluice__shop"."shop__a__v1")');
    expect(rendered.query).toContain('JOIN "sluice__shop"."shop__a__v1" AS again');
    expect(rendered.query).toContain('FROM a JOIN');
    expect(rendered.query).toContain('(SELECT id FROM "sluice__shop"."shop__b__v1")');
    expect(rendered.preStatements[0]).toContain('DELETE FROM shop.audit_log');
  });

  it('formats the statements as one script', async () => {
    const rendered = await renderModel(project, 'shop.a', DAY, parser);

    expect(formatRenderedModel(rendered)).toBe('SELECT 1 AS id;\n');
  });
});

describe('inlining embedded models', () => {
  let project: Project;
  let parser: SqlParser;

  beforeAll(async () => {
    const root = await writeProject({
      'sluice.yaml': MINIMAL_CONFIG,
      'models/orders.sql': 'MODEL (name shop.orders, kind FULL);\nSELECT 1 AS id, 5 AS amount',
      'models/recent.sql': [
        'MODEL (name shop.recent, kind EMBEDDED);',
        'SELECT id, amount FROM shop.orders WHERE day >= @start_ds -- recent only',
      ].join('\n'),
      'models/large.sql': [
        'MODEL (name shop.large, kind EMBEDDED);',
        'SELECT id FROM shop.recent WHERE amount > 3',
      ].join('\n'),
      'models/plain.sql':
        'MODEL (name shop.plain, kind FULL);\nSELECT id FROM shop.recent WHERE id > 0',
      'models/aliased.sql': [
        'MODEL (name shop.aliased, kind FULL);',
        'SELECT r.id FROM shop.recent AS r JOIN shop.recent r2 ON r.id = r2.id',
      ].join('\n'),
      'models/nested.sql': [
        'MODEL (name shop.nested, kind FULL);',
        'SELECT large.id FROM shop.large, shop.orders',
      ].join('\n'),
    });
    project = await loadProject(root);
    parser = await createSqlParser();
  });

  afterAll(() => parser.close());

  it('inlines the embedded query aliased by its name, with the default resolver', async () => {
    const rendered = await renderModel(project, 'shop.plain', DAY, parser);

    expect(rendered.query).toBe(
      [
        'SELECT id FROM (SELECT id, amount FROM shop.orders',
        "WHERE day >= '2024-03-01' -- recent only\n)",
        'AS "recent" WHERE id > 0',
      ].join(' '),
    );
  });

  it('keeps an alias written after the reference, with or without AS', async () => {
    const rendered = await renderModel(project, 'shop.aliased', DAY, parser);

    expect(rendered.query).toMatch(/^SELECT r\.id FROM \(SELECT id, amount .*\n\) AS r JOIN \(/);
    expect(rendered.query).toMatch(/\n\) r2 ON r\.id = r2\.id$/);
    expect(rendered.query).not.toContain('"recent"');
  });

  it('inlines embedded models used by embedded models and points their references', async () => {
    const rendered = await renderModel(
      project,
      'shop.nested',
      { ...DAY, resolver: physical },
      parser,
    );

    expect(rendered.query).toBe(
      [
        'SELECT large.id FROM (SELECT id FROM (SELECT id, amount',
        `FROM "sluice__shop"."shop__orders__v1" WHERE day >= '2024-03-01' -- recent only\n)`,
        'AS "recent" WHERE amount > 3) AS "large", "sluice__shop"."shop__orders__v1"',
      ].join(' '),
    );
  });

  it('leaves a model without embedded dependencies as written', async () => {
    const rendered = await renderModel(project, 'shop.orders', DAY, parser);

    expect(rendered.query).toBe('SELECT 1 AS id, 5 AS amount');
  });
});
