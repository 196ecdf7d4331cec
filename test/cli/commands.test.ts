import { execFile } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/temp-project.js';

const SHOP = 'examples/shop';

describe('sluice dag', () => {
  it('prints the example project in dependency order', async () => {
    const result = await runCli('--project', SHOP, 'dag');

    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split('\n');
    const position = (name: string) => lines.findIndex((line) => line.startsWith(`${name} `));
    expect(position('raw.orders')).toBeLessThan(position('shop.orders'));
    expect(position('shop.orders')).toBeLessThan(position('shop.order_lines'));
    expect(position('shop.order_lines')).toBeLessThan(position('shop.daily_revenue'));
    expect(position('shop.customer_totals')).toBeLessThan(position('shop.top_customers'));
    expect(lines).toContain('shop.daily_revenue (INCREMENTAL_BY_TIME_RANGE) <- shop.order_lines');
  });

  it('prints JSON with parents and levels', async () => {
    const result = await runCli('--project', SHOP, 'dag', '--format', 'json');
    const graph = JSON.parse(result.stdout) as {
      models: { name: string; kind: string; parents: string[]; level: number }[];
    };

    expect(result.code).toBe(0);
    const topCustomers = graph.models.find((model) => model.name === 'shop.top_customers');
    expect(topCustomers).toMatchObject({
      kind: 'FULL',
      parents: ['shop.customer_totals', 'shop.customers'],
    });
    expect(graph.models.map((model) => model.kind).sort()).toEqual(
      [
        'EMBEDDED',
        'EXTERNAL',
        'FULL',
        'INCREMENTAL_BY_TIME_RANGE',
        'INCREMENTAL_BY_UNIQUE_KEY',
        'SCD_TYPE_2',
        'SEED',
        'SEED',
        'VIEW',
      ].sort(),
    );
  });

  it('prints Graphviz DOT', async () => {
    const result = await runCli('--project', SHOP, 'dag', '--format', 'dot');

    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^digraph sluice \{/);
    expect(result.stdout).toContain('"shop.orders" -> "shop.order_lines"');
  });

  it('rejects an unknown format', async () => {
    const result = await runCli('--project', SHOP, 'dag', '--format', 'svg');

    expect(result.code).toBe(1);
    expect(result.stderr).toContain('svg');
  });
});

describe('sluice render', () => {
  it('prints the query for one day with inclusive end macros', async () => {
    const result = await runCli(
      '--project',
      SHOP,
      'render',
      'shop.daily_revenue',
      '--start',
      '2024-01-01',
      '--end',
      '2024-01-01',
    );

    expect(result.code).toBe(0);
    expect(result.stdout).toContain("WHERE order_date BETWEEN '2024-01-01' AND '2024-01-01'");
    expect(result.stdout).toContain('-- Revenue per day and country');
  });

  it('expands project variables', async () => {
    const result = await runCli('--project', SHOP, 'render', 'shop.orders');

    expect(result.code).toBe(0);
    expect(result.stdout).toContain('WHERE o.quantity >= 1');
  });

  it('suggests a model name on a miss', async () => {
    const result = await runCli('--project', SHOP, 'render', 'daily_revenue');

    expect(result.code).toBe(1);
    expect(result.stderr).toContain("Did you mean 'shop.daily_revenue'?");
  });
});

describe('sluice init', () => {
  it('scaffolds a project that loads and renders', async () => {
    const dir = join(await mkdtemp(join(tmpdir(), 'sluice-init-')), 'analytics');

    const init = await runCli('init', dir);
    const dag = await runCli('--project', dir, 'dag');
    const render = await runCli(
      '--project',
      dir,
      'render',
      'analytics.daily_events',
      '--start',
      '2024-01-02',
    );

    expect(init.code).toBe(0);
    expect(await readFile(join(dir, 'sluice.yaml'), 'utf8')).toContain('name: analytics');
    expect(dag.stdout).toContain(
      'analytics.daily_events (INCREMENTAL_BY_TIME_RANGE) <- raw.events',
    );
    expect(render.stdout).toContain(
      "BETWEEN '2024-01-02 00:00:00' AND '2024-01-02 23:59:59.999999'",
    );
  });

  it('refuses to overwrite an existing project', async () => {
    const result = await runCli('init', SHOP);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain('already exists');
  });
});

describe('the sluice binary', () => {
  it('exits non-zero with one clean error line for bad input', async () => {
    const run = promisify(execFile);
    const failure = await run(process.execPath, [
      'bin/sluice.js',
      '--project',
      '/nonexistent',
      'dag',
    ])
      .then(() => undefined)
      .catch((error: { code: number; stderr: string }) => error);

    expect(failure?.code).toBe(1);
    expect(failure?.stderr.trim().split('\n')).toHaveLength(1);
  });
});
