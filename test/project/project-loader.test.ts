import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadProject } from '../../src/project/project-loader.js';
import { MINIMAL_CONFIG, writeProject } from '../helpers/temp-project.js';

describe('loading a project', () => {
  it('links every kind of the example project to its parents', async () => {
    const project = await loadProject('examples/shop');

    expect(project.config.name).toBe('shop');
    expect(project.models.get('shop.orders')?.dependencies).toEqual([
      'raw.orders',
      'shop.products',
    ]);
    expect(project.models.get('shop.order_lines')?.dependencies).toEqual([
      'shop.customers',
      'shop.orders',
    ]);
    expect(project.models.get('shop.customers')?.kind).toMatchObject({ name: 'SEED' });
    expect(project.dag.nodes).toHaveLength(9);
  });

  it('keeps CTE names, self-references and undeclared sources out of the graph', async () => {
    const root = await writeProject({
      'sluice.yaml': MINIMAL_CONFIG,
      'models/base.sql': 'MODEL (name shop.base, kind FULL);\nSELECT 1 AS id',
      'models/events.sql': [
        'MODEL (name shop.events, kind INCREMENTAL_BY_UNIQUE_KEY (unique_key id));',
        'WITH base AS (SELECT * FROM shop.base), seen AS (SELECT id FROM @this_model)',
        'SELECT b.id FROM base AS b JOIN stripe.charges AS c ON c.id = b.id',
        'WHERE b.id NOT IN (SELECT id FROM seen)',
      ].join('\n'),
    });

    const project = await loadProject(root);
    const events = project.models.get('shop.events');

    expect(events?.dependencies).toEqual(['shop.base']);
    expect(events?.externalTables).toEqual(['stripe.charges']);
    expect(project.dag.parentsOf('shop.events')).toEqual(['shop.base']);
  });

  it('adds depends_on to the dependencies found in the query', async () => {
    const root = await writeProject({
      'sluice.yaml': MINIMAL_CONFIG,
      'models/a.sql': 'MODEL (name shop.a, kind FULL);\nSELECT 1 AS id',
      'models/b.sql': 'MODEL (name shop.b, kind FULL, depends_on [shop.a]);\nSELECT 2 AS id',
    });

    const project = await loadProject(root);

    expect(project.dag.parentsOf('shop.b')).toEqual(['shop.a']);
  });

  it('leaves disabled models out of the graph', async () => {
    const root = await writeProject({
      'sluice.yaml': MINIMAL_CONFIG,
      'models/a.sql': 'MODEL (name shop.a, kind FULL, enabled false);\nSELECT 1 AS id',
      'models/b.sql': 'MODEL (name shop.b, kind FULL);\nSELECT * FROM shop.a',
    });

    const project = await loadProject(root);

    expect(project.models.has('shop.a')).toBe(true);
    expect(project.dag.has('shop.a')).toBe(false);
    expect(project.dag.nodes).toEqual(['shop.b']);
  });

  it('finds dependencies in pre and post statements', async () => {
    const root = await writeProject({
      'sluice.yaml': MINIMAL_CONFIG,
      'models/a.sql': 'MODEL (name shop.a, kind FULL);\nSELECT 1 AS id',
      'models/log.sql': 'MODEL (name shop.log, kind FULL);\nSELECT 1 AS id',
      'models/b.sql': [
        'MODEL (name shop.b, kind FULL);',
        'SET threads = 2;',
        'SELECT 2 AS id;',
        'INSERT INTO audit.loads SELECT id FROM shop.a',
      ].join('\n'),
    });

    const project = await loadProject(root);

    expect(project.models.get('shop.b')?.dependencies).toEqual(['shop.a']);
  });

  it('reuses the parser cache and ignores a corrupt one', async () => {
    const root = await writeProject({
      'sluice.yaml': MINIMAL_CONFIG,
      'models/a.sql': 'MODEL (name shop.a, kind FULL);\nSELECT 1 AS id',
      'models/b.sql': 'MODEL (name shop.b, kind FULL);\nSELECT * FROM shop.a',
    });

    const cold = await loadProject(root);
    const files = await readdir(join(root, '.sluice', 'cache'));
    const warm = await loadProject(root);
    await writeFile(join(root, '.sluice', 'cache', files[0] ?? 'missing'), '{not json');
    const afterCorruption = await loadProject(root);

    expect(files).toEqual(['references-v1.json']);
    expect(warm.dag.nodes).toEqual(cold.dag.nodes);
    expect(afterCorruption.models.get('shop.b')?.dependencies).toEqual(['shop.a']);
  });

  it('writes no cache when asked not to', async () => {
    const root = await writeProject({
      'sluice.yaml': MINIMAL_CONFIG,
      'models/a.sql': 'MODEL (name shop.a, kind FULL);\nSELECT 1 AS id',
    });

    await loadProject(root, { useCache: false });

    await expect(readdir(join(root, '.sluice'))).rejects.toThrow(/ENOENT/);
  });
});
