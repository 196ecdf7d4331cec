/**
 * The dependency graph of a project's models. Internally every model gets a number in name order,
 * so sorting numbers sorts names and a min-heap of numbers breaks ties by name.
 */

import { findCycles, type ParentLists } from './dag-cycles.js';
import { DependencyCycleError } from './dependency-cycle-error.js';
import { didYouMean, SluiceError } from './errors.js';
import { IndexHeap } from './index-heap.js';

type NumberedGraph = {
  readonly names: readonly string[];
  readonly numberOf: ReadonlyMap<string, number>;
  readonly parents: ParentLists;
  readonly children: ParentLists;
};

/** An immutable directed acyclic graph of model names; edges point from a model to its parents. */
export class Dag {
  /** Every model in topological order (parents first), ties broken by name. */
  readonly nodes: readonly string[];
  private readonly graph: NumberedGraph;
  private readonly positionOf: Int32Array;
  private readonly parentNames: readonly (readonly string[])[];
  private readonly childNames: readonly (readonly string[])[];
  private cachedLevels: readonly (readonly string[])[] | undefined;

  private constructor(graph: NumberedGraph, order: readonly number[]) {
    this.graph = graph;
    this.nodes = Object.freeze(order.map((node) => graph.names[node] ?? ''));
    this.positionOf = new Int32Array(order.length);
    order.forEach((node, position) => {
      this.positionOf[node] = position;
    });
    this.parentNames = graph.parents.map((list) => Object.freeze(this.namesOf(list)));
    this.childNames = graph.children.map((list) => Object.freeze(this.namesOf(list)));
  }

  /**
   * Builds the graph from each model's parents. Throws a DependencyCycleError naming every cycle,
   * and a SluiceError 'internal' when a parent is not itself a key of `parents`.
   */
  static build(parents: ReadonlyMap<string, readonly string[]>): Dag {
    const graph = numberGraph(parents);
    const order = topologicalOrder(graph);

    if (order.length < graph.names.length) throw cycleError(graph, order);
    return new Dag(graph, order);
  }

  /** Whether the graph has a model of this name. */
  has(name: string): boolean {
    return this.graph.numberOf.has(name);
  }

  /** The models this model depends on, sorted by name. */
  parentsOf(name: string): readonly string[] {
    return this.parentNames[this.numberOfModel(name)] ?? [];
  }

  /** The models that depend on this model, sorted by name. */
  childrenOf(name: string): readonly string[] {
    return this.childNames[this.numberOfModel(name)] ?? [];
  }

  /** Every model this model depends on, directly or not, in topological order. */
  upstreamOf(name: string): readonly string[] {
    return this.reachableFrom(this.numberOfModel(name), this.graph.parents);
  }

  /** Every model that depends on this model, directly or not, in topological order. */
  downstreamOf(name: string): readonly string[] {
    return this.reachableFrom(this.numberOfModel(name), this.graph.children);
  }

  /**
   * Models grouped in levels: level 0 has no parents and each model sits one level above its
   * deepest parent, so the models of one level may run in parallel. Each level is sorted by name.
   */
  levels(): readonly (readonly string[])[] {
    this.cachedLevels ??= this.computeLevels();
    return this.cachedLevels;
  }

  /** The subgraph of the given models, keeping only the edges between them. */
  subgraph(names: Iterable<string>): Dag {
    const kept = new Set<string>();
    for (const name of names) {
      this.numberOfModel(name);
      kept.add(name);
    }

    const parents = new Map<string, readonly string[]>();
    for (const name of kept) {
      parents.set(
        name,
        this.parentsOf(name).filter((parent) => kept.has(parent)),
      );
    }
    return Dag.build(parents);
  }

  private computeLevels(): readonly (readonly string[])[] {
    const levelOf = new Int32Array(this.graph.names.length);
    const byLevel: number[][] = [];

    for (const name of this.nodes) {
      const node = this.graph.numberOf.get(name) ?? 0;
      let level = 0;
      for (const parent of this.graph.parents[node] ?? []) {
        level = Math.max(level, (levelOf[parent] ?? 0) + 1);
      }
      levelOf[node] = level;
      const members = byLevel[level] ?? [];
      members.push(node);
      byLevel[level] = members;
    }
    return Object.freeze(
      byLevel.map((level) => Object.freeze(this.namesOf(level.sort((a, b) => a - b)))),
    );
  }

  /** All nodes reachable from `start` along `edges`, without `start`, in topological order. */
  private reachableFrom(start: number, edges: ParentLists): readonly string[] {
    const isSeen = new Uint8Array(this.graph.names.length);
    const found: number[] = [];
    const pending = [start];
    isSeen[start] = 1;

    for (let node = pending.pop(); node !== undefined; node = pending.pop()) {
      for (const next of edges[node] ?? []) {
        if (isSeen[next] === 1) continue;
        isSeen[next] = 1;
        found.push(next);
        pending.push(next);
      }
    }

    found.sort((a, b) => (this.positionOf[a] ?? 0) - (this.positionOf[b] ?? 0));
    return Object.freeze(this.namesOf(found));
  }

  private numberOfModel(name: string): number {
    const node = this.graph.numberOf.get(name);
    if (node !== undefined) return node;
    throw new SluiceError(
      'model_not_found',
      `Model '${name}' is not in the dependency graph; check its name.` +
        didYouMean(name, this.graph.names),
    );
  }

  private namesOf(nodes: readonly number[]): string[] {
    return nodes.map((node) => this.graph.names[node] ?? '');
  }
}

/** Numbers the models in name order and resolves, deduplicates and sorts their parents. */
function numberGraph(parentsByName: ReadonlyMap<string, readonly string[]>): NumberedGraph {
  const names = [...parentsByName.keys()].sort();
  const numberOf = new Map(names.map((name, node) => [name, node]));
  const children: number[][] = names.map(() => []);

  const parents = names.map((name, node) => {
    const resolved = (parentsByName.get(name) ?? []).map((parent) => {
      const parentNode = numberOf.get(parent);
      if (parentNode === undefined) throw unknownParentError(name, parent);
      return parentNode;
    });
    const unique = sortedUnique(resolved);
    for (const parent of unique) children[parent]?.push(node);
    return unique;
  });
  return { names, numberOf, parents, children };
}

function sortedUnique(values: number[]): number[] {
  if (values.length < 2) return values;
  values.sort((a, b) => a - b);
  return values.filter((value, index) => index === 0 || value !== values[index - 1]);
}

/** Kahn's algorithm with a min-heap, so ready models leave in name order. */
function topologicalOrder(graph: NumberedGraph): number[] {
  const waitingFor = Int32Array.from(graph.parents, (list) => list.length);
  const ready = new IndexHeap();
  waitingFor.forEach((count, node) => {
    if (count === 0) ready.push(node);
  });

  const order: number[] = [];
  for (let node = ready.pop(); node !== undefined; node = ready.pop()) {
    order.push(node);
    for (const child of graph.children[node] ?? []) {
      const remaining = (waitingFor[child] ?? 0) - 1;
      waitingFor[child] = remaining;
      if (remaining === 0) ready.push(child);
    }
  }
  return order;
}

function cycleError(graph: NumberedGraph, placed: readonly number[]): DependencyCycleError {
  const candidates = new Uint8Array(graph.names.length).fill(1);
  for (const node of placed) candidates[node] = 0;

  const cycles = findCycles(graph.parents, candidates);
  return new DependencyCycleError(
    cycles.map((cycle) => cycle.map((node) => graph.names[node] ?? '')),
  );
}

function unknownParentError(model: string, parent: string): SluiceError {
  return new SluiceError(
    'internal',
    `Model '${model}' depends on '${parent}', which is not in the dependency graph; ` +
      'undefined references must be reported before the graph is built',
  );
}
