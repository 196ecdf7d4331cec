import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Dag } from '../../src/core/dag.js';
import { SluiceError } from '../../src/core/errors.js';

function dagOf(parents: Record<string, string[]>): Dag {
  return Dag.build(new Map(Object.entries(parents)));
}

const diamond = {
  'shop.orders': [],
  'shop.customers': [],
  'shop.enriched': ['shop.orders', 'shop.customers'],
  'shop.by_region': ['shop.enriched'],
  'shop.by_day': ['shop.enriched'],
  'shop.report': ['shop.by_region', 'shop.by_day'],
};

describe('Dag.build', () => {
  it('orders models parents first and breaks ties by name', () => {
    const dag = dagOf({ c: [], a: ['c'], b: [], d: ['b'] });

    expect(dag.nodes).toEqual(['b', 'c', 'a', 'd']);
  });

  it('orders a diamond so that every model follows all its parents', () => {
    const dag = dagOf(diamond);

    expect(dag.nodes).toEqual([
      'shop.customers',
      'shop.orders',
      'shop.enriched',
      'shop.by_day',
      'shop.by_region',
      'shop.report',
    ]);
  });

  it('keeps disconnected parts and orders them together by name', () => {
    const dag = dagOf({ 'b.y': ['b.x'], 'b.x': [], 'a.y': ['a.x'], 'a.x': [], lonely: [] });

    expect(dag.nodes).toEqual(['a.x', 'a.y', 'b.x', 'b.y', 'lonely']);
    expect(dag.upstreamOf('b.y')).toEqual(['b.x']);
    expect(dag.downstreamOf('a.x')).toEqual(['a.y']);
  });

  it('ignores a parent listed twice', () => {
    const dag = dagOf({ a: [], b: ['a', 'a'] });

    expect(dag.parentsOf('b')).toEqual(['a']);
    expect(dag.childrenOf('a')).toEqual(['b']);
  });

  it('rejects a parent that is not a model of the graph as an internal error', () => {
    const build = () => dagOf({ a: ['missing'] });

    expect(build).toThrow(SluiceError);
    expect(build).toThrow(/'a' depends on 'missing'/);
    try {
      build();
    } catch (error) {
      expect((error as SluiceError).code).toBe('internal');
    }
  });

  it('builds an empty graph', () => {
    const dag = dagOf({});

    expect(dag.nodes).toEqual([]);
    expect(dag.levels()).toEqual([]);
  });
});

describe('Dag queries', () => {
  const dag = dagOf(diamond);

  it('lists parents and children sorted by name', () => {
    expect(dag.parentsOf('shop.enriched')).toEqual(['shop.customers', 'shop.orders']);
    expect(dag.childrenOf('shop.enriched')).toEqual(['shop.by_day', 'shop.by_region']);
    expect(dag.parentsOf('shop.orders')).toEqual([]);
  });

  it('lists every ancestor in topological order', () => {
    expect(dag.upstreamOf('shop.report')).toEqual([
      'shop.customers',
      'shop.orders',
      'shop.enriched',
      'shop.by_day',
      'shop.by_region',
    ]);
    expect(dag.upstreamOf('shop.orders')).toEqual([]);
  });

  it('lists every descendant in topological order', () => {
    expect(dag.downstreamOf('shop.orders')).toEqual([
      'shop.enriched',
      'shop.by_day',
      'shop.by_region',
      'shop.report',
    ]);
    expect(dag.downstreamOf('shop.report')).toEqual([]);
  });

  it('groups models in levels one above their deepest parent', () => {
    const levels = dagOf({ a: [], b: ['a'], c: ['b'], d: ['a', 'c'], e: [] }).levels();

    expect(levels).toEqual([['a', 'e'], ['b'], ['c'], ['d']]);
  });

  it('groups the diamond in four levels', () => {
    expect(dag.levels()).toEqual([
      ['shop.customers', 'shop.orders'],
      ['shop.enriched'],
      ['shop.by_day', 'shop.by_region'],
      ['shop.report'],
    ]);
  });

  it('reports an unknown model by name with a suggestion', () => {
    expect(() => dag.parentsOf('shop.order')).toThrow(
      "Model 'shop.order' is not in the dependency graph; check its name. Did you mean 'shop.orders'?",
    );
    expect(dag.has('shop.order')).toBe(false);
    expect(dag.has('shop.orders')).toBe(true);
  });

  it('returns results that cannot be changed', () => {
    expect(Object.isFrozen(dag.nodes)).toBe(true);
    expect(Object.isFrozen(dag.parentsOf('shop.report'))).toBe(true);
    expect(Object.isFrozen(dag.levels())).toBe(true);
  });
});

describe('Dag.subgraph', () => {
  it('keeps only the given models and the edges between them', () => {
    const sub = dagOf(diamond).subgraph(['shop.report', 'shop.by_day', 'shop.orders']);

    expect(sub.nodes).toEqual(['shop.by_day', 'shop.orders', 'shop.report']);
    expect(sub.parentsOf('shop.report')).toEqual(['shop.by_day']);
    expect(sub.parentsOf('shop.by_day')).toEqual([]);
    expect(sub.levels()).toEqual([['shop.by_day', 'shop.orders'], ['shop.report']]);
  });

  it('rejects a model that is not in the graph', () => {
    expect(() => dagOf(diamond).subgraph(['shop.nothing'])).toThrow(/'shop.nothing'/);
  });
});

/** Random DAGs: an edge only goes from a later-numbered model to an earlier one in a shuffle. */
const randomDag = fc
  .integer({ min: 1, max: 60 })
  .chain((size) =>
    fc.record({
      names: fc.uniqueArray(fc.string({ minLength: 1, maxLength: 6 }), {
        minLength: size,
        maxLength: size,
      }),
      edges: fc.array(fc.tuple(fc.nat(size - 1), fc.nat(size - 1)), { maxLength: size * 3 }),
    }),
  )
  .map(({ names, edges }) => {
    const parents = new Map<string, string[]>(names.map((name) => [name, []]));
    for (const [from, to] of edges) {
      if (from === to) continue;
      const child = names[Math.max(from, to)] ?? '';
      parents.get(child)?.push(names[Math.min(from, to)] ?? '');
    }
    return parents;
  });

describe('Dag properties', () => {
  it('places every parent before its child in nodes', () => {
    fc.assert(
      fc.property(randomDag, (parents) => {
        const dag = Dag.build(parents);
        const position = new Map(dag.nodes.map((name, index) => [name, index]));

        expect(dag.nodes.length).toBe(parents.size);
        for (const [child, list] of parents) {
          for (const parent of list) {
            expect(position.get(parent)).toBeLessThan(position.get(child) ?? -1);
          }
        }
      }),
    );
  });

  it('puts every model exactly one level above its deepest parent', () => {
    fc.assert(
      fc.property(randomDag, (parents) => {
        const dag = Dag.build(parents);
        const levelOf = new Map<string, number>();
        dag.levels().forEach((names, level) => {
          for (const name of names) levelOf.set(name, level);
        });

        for (const name of dag.nodes) {
          const parentLevels = dag.parentsOf(name).map((parent) => levelOf.get(parent) ?? -9);
          expect(levelOf.get(name)).toBe(Math.max(-1, ...parentLevels) + 1);
        }
      }),
    );
  });
});

describe('Dag performance', () => {
  it('builds 5,000 models with 10,000 edges and a 5,000-deep chain', () => {
    const name = (index: number) => `schema_${index % 50}.model_${index}`;
    let seed = 12345;
    const random = (below: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % below;
    };
    const parents = new Map<string, string[]>();
    for (let index = 0; index < 5000; index++) {
      const list = index === 0 ? [] : [name(index - 1), name(random(index))];
      parents.set(name(index), list);
    }

    const dag = Dag.build(parents);

    expect(dag.nodes).toHaveLength(5000);
    expect(dag.upstreamOf(name(4999))).toHaveLength(4999);
  });
});
