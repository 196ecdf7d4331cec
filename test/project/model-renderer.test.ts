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
  resolve: (name) => `"sluice__shop"."${name.replace('.', '__')}__v1"`,
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
