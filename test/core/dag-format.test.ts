import { describe, expect, it } from 'vitest';
import { Dag } from '../../src/core/dag.js';
import {
  type DagNodeInfo,
  formatDagDot,
  formatDagJson,
  formatDagText,
} from '../../src/core/dag-format.js';

const dag = Dag.build(
  new Map([
    ['shop.daily_revenue', ['shop.orders', 'shop.customers']],
    ['shop.orders', []],
    ['shop.customers', []],
  ]),
);

const infos: Record<string, DagNodeInfo> = {
  'shop.daily_revenue': { kind: 'INCREMENTAL_BY_TIME_RANGE', file: 'models/daily_revenue.sql' },
  'shop.orders': { kind: 'SEED', file: 'seeds/orders.csv' },
  'shop.customers': { kind: 'EXTERNAL' },
};

const info = (name: string): DagNodeInfo => infos[name] ?? { kind: 'FULL' };

describe('formatDagText', () => {
  it('prints one line per model in topological order with its parents', () => {
    expect(formatDagText(dag, info)).toBe(
      'shop.customers (EXTERNAL)\n' +
        'shop.orders (SEED)\n' +
        'shop.daily_revenue (INCREMENTAL_BY_TIME_RANGE) <- shop.customers, shop.orders\n',
    );
  });

  it('prints nothing for an empty graph', () => {
    expect(formatDagText(Dag.build(new Map()), info)).toBe('');
  });
});

describe('formatDagDot', () => {
  it('prints a left-to-right digraph with kinds in labels and edges from parent to child', () => {
    expect(formatDagDot(dag, info)).toBe(
      [
        'digraph sluice {',
        '  rankdir=LR;',
        '  node [shape=box];',
        '  "shop.customers" [label="shop.customers\\n(EXTERNAL)"];',
        '  "shop.orders" [label="shop.orders\\n(SEED)", tooltip="seeds/orders.csv"];',
        '  "shop.daily_revenue" [label="shop.daily_revenue\\n(INCREMENTAL_BY_TIME_RANGE)", ' +
          'tooltip="models/daily_revenue.sql"];',
        '  "shop.customers" -> "shop.daily_revenue";',
        '  "shop.orders" -> "shop.daily_revenue";',
        '}',
        '',
      ].join('\n'),
    );
  });

  it('escapes quotes, backslashes and line breaks in names', () => {
    const quoted = Dag.build(
      new Map([
        ['"my schema".t\\1', []],
        ['odd\nname', ['"my schema".t\\1']],
      ]),
    );
    const dot = formatDagDot(quoted, () => ({ kind: 'VIEW' }));

    expect(dot).toContain('  "\\"my schema\\".t\\\\1" [label="\\"my schema\\".t\\\\1\\n(VIEW)"];');
    expect(dot).toContain('  "\\"my schema\\".t\\\\1" -> "odd\\nname";');
    expect(dot.split('\n')).toHaveLength(8);
  });
});

describe('formatDagJson', () => {
  it('round-trips models, files, parents, levels and edges through JSON.parse', () => {
    const json = formatDagJson(dag, info);

    expect(JSON.parse(json)).toEqual({
      models: [
        { name: 'shop.customers', kind: 'EXTERNAL', file: null, parents: [], level: 0 },
        { name: 'shop.orders', kind: 'SEED', file: 'seeds/orders.csv', parents: [], level: 0 },
        {
          name: 'shop.daily_revenue',
          kind: 'INCREMENTAL_BY_TIME_RANGE',
          file: 'models/daily_revenue.sql',
          parents: ['shop.customers', 'shop.orders'],
          level: 1,
        },
      ],
      edges: [
        ['shop.customers', 'shop.daily_revenue'],
        ['shop.orders', 'shop.daily_revenue'],
      ],
    });
  });

  it('indents with two spaces and ends with a line break', () => {
    const json = formatDagJson(dag, info);

    expect(json.startsWith('{\n  "models": [\n    {\n      "name": "shop.customers",')).toBe(true);
    expect(json.endsWith('}\n')).toBe(true);
  });

  it('rebuilds the same graph from its JSON edges', () => {
    const parsed = JSON.parse(formatDagJson(dag, info)) as {
      models: { name: string; parents: string[] }[];
    };
    const rebuilt = Dag.build(new Map(parsed.models.map((model) => [model.name, model.parents])));

    expect(rebuilt.nodes).toEqual(dag.nodes);
    expect(formatDagJson(rebuilt, info)).toBe(formatDagJson(dag, info));
  });
});
