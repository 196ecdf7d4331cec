import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Dag } from '../../src/core/dag.js';
import { DependencyCycleError } from '../../src/core/dependency-cycle-error.js';
import { SluiceError } from '../../src/core/errors.js';

function cycleErrorOf(parents: Record<string, string[]>): DependencyCycleError {
  try {
    Dag.build(new Map(Object.entries(parents)));
  } catch (error) {
    if (error instanceof DependencyCycleError) return error;
    throw error;
  }
  throw new Error('expected a dependency cycle');
}

describe('dependency cycles', () => {
  it('names a three-model cycle in cycle order', () => {
    const error = cycleErrorOf({
      'shop.a': ['shop.b'],
      'shop.b': ['shop.c'],
      'shop.c': ['shop.a'],
    });

    expect(error).toBeInstanceOf(SluiceError);
    expect(error.code).toBe('dependency_cycle');
    expect(error.cycles).toEqual([['shop.a', 'shop.b', 'shop.c']]);
    expect(error.message).toBe(
      'Models depend on each other in a cycle: shop.a → shop.b → shop.c → shop.a; ' +
        'remove one of these references',
    );
  });

  it('follows the dependencies, not the names, when tracing a cycle', () => {
    const error = cycleErrorOf({ a: ['c'], b: ['a'], c: ['b'] });

    expect(error.cycles).toEqual([['a', 'c', 'b']]);
  });

  it('reports a model that depends on itself', () => {
    const error = cycleErrorOf({ 'shop.a': ['shop.a'], 'shop.b': [] });

    expect(error.cycles).toEqual([['shop.a']]);
    expect(error.models).toEqual(['shop.a']);
    expect(error.message).toBe(
      "Model 'shop.a' depends on itself: shop.a → shop.a; remove this reference",
    );
  });

  it('names every model of two separate cycles', () => {
    const error = cycleErrorOf({
      'x.one': ['x.two'],
      'x.two': ['x.one'],
      'y.one': ['y.three'],
      'y.two': ['y.one'],
      'y.three': ['y.two'],
      'z.free': [],
    });

    expect(error.cycles).toEqual([
      ['x.one', 'x.two'],
      ['y.one', 'y.three', 'y.two'],
    ]);
    expect(error.models).toEqual(['x.one', 'x.two', 'y.one', 'y.three', 'y.two']);
    expect(error.message).toBe(
      'Models depend on each other in 2 cycles: (1) x.one → x.two → x.one, ' +
        '(2) y.one → y.three → y.two → y.one; remove one reference in each cycle',
    );
  });

  it('leaves out models that only lead into or out of a cycle', () => {
    const error = cycleErrorOf({
      source: [],
      staging: ['source'],
      'loop.a': ['staging', 'loop.b'],
      'loop.b': ['loop.a'],
      downstream: ['loop.b'],
      report: ['downstream', 'source'],
    });

    expect(error.cycles).toEqual([['loop.a', 'loop.b']]);
    expect(error.models).toEqual(['loop.a', 'loop.b']);
    expect(error.message).not.toMatch(/source|staging|downstream|report/);
  });

  it('traces one closed walk through every model of a tangled component', () => {
    const error = cycleErrorOf({ a: ['b'], b: ['a', 'c'], c: ['b', 'd'], d: ['a'] });
    const [walk = []] = error.cycles;

    expect(new Set(walk)).toEqual(new Set(['a', 'b', 'c', 'd']));
    expect(walk[0]).toBe('a');
    const parents: Record<string, string[]> = { a: ['b'], b: ['a', 'c'], c: ['b', 'd'], d: ['a'] };
    [...walk, walk[0] ?? ''].slice(1).forEach((next, index) => {
      expect(parents[walk[index] ?? '']).toContain(next);
    });
  });

  it('finds a cycle at the end of a 20,000-model chain without overflowing the stack', () => {
    const parents = new Map<string, string[]>();
    for (let index = 0; index < 20_000; index++) {
      parents.set(`m${index}`, [`m${index + 1}`]);
    }
    parents.set('m20000', ['m19998']);

    try {
      Dag.build(parents);
      expect.unreachable('expected a dependency cycle');
    } catch (error) {
      expect((error as DependencyCycleError).cycles).toEqual([['m19998', 'm19999', 'm20000']]);
    }
  });

  it('names every model of one cycle through 20,000 models', () => {
    const parents = new Map<string, string[]>();
    for (let index = 0; index < 20_000; index++) {
      parents.set(`m${index}`, [`m${(index + 1) % 20_000}`]);
    }

    try {
      Dag.build(parents);
      expect.unreachable('expected a dependency cycle');
    } catch (error) {
      expect((error as DependencyCycleError).models).toHaveLength(20_000);
    }
  });
});

/** Random graphs of up to 12 models, with cycles likely. */
const randomGraph = fc
  .integer({ min: 1, max: 12 })
  .chain((size) =>
    fc
      .array(fc.tuple(fc.nat(size - 1), fc.nat(size - 1)), { maxLength: size * 2 })
      .map((edges) => ({ size, edges })),
  )
  .map(({ size, edges }) => {
    const parents = new Map<string, string[]>();
    for (let index = 0; index < size; index++) parents.set(`m${index}`, []);
    for (const [child, parent] of edges) parents.get(`m${child}`)?.push(`m${parent}`);
    return parents;
  });

function isOnCycle(parents: ReadonlyMap<string, string[]>, start: string): boolean {
  const seen = new Set<string>();
  const pending = [...(parents.get(start) ?? [])];
  for (let name = pending.pop(); name !== undefined; name = pending.pop()) {
    if (name === start) return true;
    if (seen.has(name)) continue;
    seen.add(name);
    pending.push(...(parents.get(name) ?? []));
  }
  return false;
}

describe('dependency cycle properties', () => {
  it('names exactly the models on a cycle, each traced along real dependencies', () => {
    fc.assert(
      fc.property(randomGraph, (parents) => {
        const onCycle = [...parents.keys()].filter((name) => isOnCycle(parents, name)).sort();
        let error: DependencyCycleError | undefined;
        try {
          Dag.build(parents);
        } catch (caught) {
          error = caught as DependencyCycleError;
        }

        expect(error?.models ?? []).toEqual(onCycle);
        for (const walk of error?.cycles ?? []) {
          [...walk.slice(1), walk[0] ?? ''].forEach((next, index) => {
            expect(parents.get(walk[index] ?? '')).toContain(next);
          });
        }
      }),
    );
  });
});
