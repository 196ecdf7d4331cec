/**
 * Renders the dependency graph for people and tools: plain text, Graphviz DOT and JSON. Every
 * format lists models in topological order, so the output of one project is always the same.
 */

import type { Dag } from './dag.js';

/** What a format shows about a model besides its name and edges. */
export type DagNodeInfo = { readonly kind: string; readonly file?: string };

/**
 * One line per model in topological order, `shop.daily_revenue (FULL) <- shop.orders`, parents
 * sorted by name; a model without parents has no arrow.
 */
export function formatDagText(dag: Dag, info: (name: string) => DagNodeInfo): string {
  return dag.nodes.map((name) => textLine(name, info(name).kind, dag.parentsOf(name))).join('');
}

function textLine(name: string, kind: string, parents: readonly string[]): string {
  const arrow = parents.length === 0 ? '' : ` <- ${parents.join(', ')}`;
  return `${name} (${kind})${arrow}\n`;
}

/**
 * A Graphviz digraph laid out left to right: one box per model labelled with its name and kind
 * (and its file as tooltip), and one edge from each parent to its child.
 */
export function formatDagDot(dag: Dag, info: (name: string) => DagNodeInfo): string {
  const lines = ['digraph sluice {', '  rankdir=LR;', '  node [shape=box];'];

  for (const name of dag.nodes) {
    const { kind, file } = info(name);
    const tooltip = file === undefined ? '' : `, tooltip=${dotString(file)}`;
    lines.push(`  ${dotString(name)} [label=${dotLabel(name, kind)}${tooltip}];`);
  }
  for (const [parent, child] of edgesOf(dag)) {
    lines.push(`  ${dotString(parent)} -> ${dotString(child)};`);
  }

  lines.push('}');
  return `${lines.join('\n')}\n`;
}

/** A DOT double-quoted string; backslashes are escaped too so that labels show them literally. */
function dotString(text: string): string {
  return `"${escapeDot(text)}"`;
}

function dotLabel(name: string, kind: string): string {
  return `"${escapeDot(name)}\\n(${escapeDot(kind)})"`;
}

function escapeDot(text: string): string {
  return text.replace(/[\\"]/g, (character) => `\\${character}`).replace(/\r\n|\r|\n/g, '\\n');
}

/**
 * `{ "models": [...], "edges": [[parent, child], ...] }` pretty-printed with two spaces. Each model
 * has its name, kind, file (null when unknown), sorted parents and level (see Dag.levels).
 */
export function formatDagJson(dag: Dag, info: (name: string) => DagNodeInfo): string {
  const levelOf = new Map<string, number>();
  dag.levels().forEach((names, level) => {
    for (const name of names) levelOf.set(name, level);
  });

  const models = dag.nodes.map((name) => {
    const { kind, file } = info(name);
    const parents = dag.parentsOf(name);
    return { name, kind, file: file ?? null, parents, level: levelOf.get(name) ?? 0 };
  });
  return `${JSON.stringify({ models, edges: edgesOf(dag) }, null, 2)}\n`;
}

/** Every edge as [parent, child], by child in topological order, then by parent name. */
function edgesOf(dag: Dag): [string, string][] {
  return dag.nodes.flatMap((child) =>
    dag.parentsOf(child).map((parent): [string, string] => [parent, child]),
  );
}
