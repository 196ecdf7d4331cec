/**
 * Finds table references in the JSON that DuckDB's `json_serialize_sql` makes of SELECT statements.
 * The walk is generic: it visits every object and array, and treats only two things specially: a
 * `BASE_TABLE` node is a reference, and a query node's `cte_map` opens a scope of CTE names.
 */

import type { FoundReference } from './table-reference.js';

type TreeNode = { readonly [key: string]: unknown };

/** CTE names in scope, lower-cased: DuckDB matches names without regard to case. */
type Scope = ReadonlySet<string>;

/** The tables the serialised statements read, in tree order; CTE names in scope are left out. */
export function findDuckDbReferences(statements: readonly unknown[]): FoundReference[] {
  const found: FoundReference[] = [];
  visit(statements, new Set(), found);
  return found;
}

function visit(value: unknown, scope: Scope, found: FoundReference[]): void {
  if (typeof value !== 'object' || value === null) return;
  if (Array.isArray(value)) {
    for (const item of value) visit(item, scope, found);
    return;
  }
  visitNode(value as TreeNode, scope, found);
}

function visitNode(node: TreeNode, scope: Scope, found: FoundReference[]): void {
  if (node.type === 'BASE_TABLE' && typeof node.table_name === 'string') {
    addBaseTable(node, scope, found);
    return;
  }

  const cteMap = node.cte_map;
  const scoped = isTreeNode(cteMap) ? enterCtes(cteMap, scope, found) : scope;
  for (const key in node) {
    const child = node[key];
    if (key !== 'cte_map' && typeof child === 'object' && child !== null) {
      visit(child, scoped, found);
    }
  }
}

/**
 * Walks the CTE bodies of a query node and returns the scope of the node itself. A CTE sees the
 * CTEs before it; its own name inside its body is the real table unless DuckDB made it a recursive
 * CTE (a `RECURSIVE_CTE_NODE`, which only `WITH RECURSIVE` produces).
 */
function enterCtes(cteMap: TreeNode, scope: Scope, found: FoundReference[]): Scope {
  const entries = Array.isArray(cteMap.map) ? (cteMap.map as unknown[]) : [];
  const visible = new Set(scope);
  for (const entry of entries) {
    if (!isTreeNode(entry) || typeof entry.key !== 'string') continue;
    const name = entry.key.toLowerCase();
    const body = cteBody(entry.value);
    if (isTreeNode(body) && body.type === 'RECURSIVE_CTE_NODE') visible.add(name);
    visit(body, visible, found);
    visible.add(name);
  }
  return visible;
}

function cteBody(value: unknown): unknown {
  const query = isTreeNode(value) ? value.query : undefined;
  return isTreeNode(query) ? query.node : undefined;
}

function addBaseTable(node: TreeNode, scope: Scope, found: FoundReference[]): void {
  const table = node.table_name as string;
  const schema = optionalString(node.schema_name);
  const catalog = optionalString(node.catalog_name);
  const isUnqualified = schema === undefined && catalog === undefined;
  if (isUnqualified && scope.has(table.toLowerCase())) return;

  const parts = [catalog, schema, table].filter((part) => part !== undefined);
  found.push({ parts, byteOffset: byteOffsetOf(node.query_location), access: 'read' });
}

/** DuckDB writes the largest 64-bit integer where it has no location; that becomes -1 here. */
function byteOffsetOf(location: unknown): number {
  return typeof location === 'number' && Number.isSafeInteger(location) ? location : -1;
}

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function isTreeNode(value: unknown): value is TreeNode {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
