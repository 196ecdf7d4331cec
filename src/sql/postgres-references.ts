/**
 * Finds table references in libpg-query's syntax tree. The walk is generic: it visits every object
 * and array, and treats only three things specially: a RangeVar (any object with a `relname`) is a
 * reference, a `withClause` opens a scope of CTE names, and a few statements mark the key that
 * holds the table they write.
 */

import type { ParseResult } from 'libpg-query';
import type { FoundReference, TableAccess } from './table-reference.js';

type TreeNode = { readonly [key: string]: unknown };

type Context = {
  /** CTE names in scope, as PostgreSQL normalised them. */
  readonly ctes: ReadonlySet<string>;
  readonly access: TableAccess;
};

/**
 * For statements that write a table, the key of the statement's body that names it. Tables that
 * other statements name (GRANT, ANALYZE, ...) count as read.
 */
const WRITE_TARGETS: ReadonlyMap<string, readonly string[]> = new Map([
  ['InsertStmt', ['relation']],
  ['UpdateStmt', ['relation']],
  ['DeleteStmt', ['relation']],
  ['MergeStmt', ['relation']],
  ['CreateStmt', ['relation']],
  ['CreateTableAsStmt', ['into']],
  ['SelectStmt', ['intoClause']],
  ['ViewStmt', ['view']],
  ['AlterTableStmt', ['relation']],
  ['IndexStmt', ['relation']],
  ['TruncateStmt', ['relations']],
  ['RenameStmt', ['relation']],
  ['RefreshMatViewStmt', ['relation']],
]);

const NO_TARGETS: readonly string[] = [];

/**
 * The tables the parsed statements read or write, in tree order; CTE names in scope are left out.
 */
export function findPostgresReferences(tree: ParseResult): FoundReference[] {
  const found: FoundReference[] = [];
  visit(tree.stmts, { ctes: new Set(), access: 'read' }, NO_TARGETS, found);
  return found;
}

function visit(
  value: unknown,
  context: Context,
  targets: readonly string[],
  found: FoundReference[],
): void {
  if (typeof value !== 'object' || value === null) return;
  if (Array.isArray(value)) {
    for (const item of value) visit(item, context, NO_TARGETS, found);
    return;
  }
  visitNode(value as TreeNode, context, targets, found);
}

function visitNode(
  node: TreeNode,
  context: Context,
  targets: readonly string[],
  found: FoundReference[],
): void {
  if (typeof node.relname === 'string') {
    addRangeVar(node, context, found);
    return;
  }

  const withClause = node.withClause;
  const scoped = isTreeNode(withClause) ? enterWith(withClause, context, found) : context;
  for (const key in node) {
    const child = node[key];
    if (key === 'withClause' || typeof child !== 'object' || child === null) continue;
    const childContext = targets.includes(key)
      ? { ctes: scoped.ctes, access: 'write' as const }
      : scoped;
    visit(child, childContext, statementTargets(key, child), found);
  }
}

/** `COPY t FROM` writes `t`; `COPY t TO` reads it. */
function statementTargets(key: string, body: object): readonly string[] {
  if (key === 'CopyStmt') return (body as TreeNode).is_from === true ? ['relation'] : NO_TARGETS;
  return WRITE_TARGETS.get(key) ?? NO_TARGETS;
}

/**
 * Walks the CTE bodies of a WITH clause and returns the context its statement runs in. Without
 * RECURSIVE a CTE sees only the CTEs before it, so its own name inside its body is the real table;
 * with RECURSIVE every CTE of the clause is in scope in every body, as in PostgreSQL.
 */
function enterWith(withClause: TreeNode, context: Context, found: FoundReference[]): Context {
  const ctes = commonTableExpressions(withClause);
  const visible = new Set(context.ctes);
  const isRecursive = withClause.recursive === true;
  if (isRecursive) for (const cte of ctes) visible.add(cte.name);

  for (const cte of ctes) {
    visit(cte.query, { ctes: visible, access: 'read' }, NO_TARGETS, found);
    visible.add(cte.name);
  }
  return { ctes: visible, access: context.access };
}

function commonTableExpressions(withClause: TreeNode): { name: string; query: unknown }[] {
  const list = Array.isArray(withClause.ctes) ? (withClause.ctes as unknown[]) : [];
  return list.flatMap((item) => {
    const cte = isTreeNode(item) ? item.CommonTableExpr : undefined;
    if (!isTreeNode(cte) || typeof cte.ctename !== 'string') return [];
    return [{ name: cte.ctename, query: cte.ctequery }];
  });
}

function addRangeVar(node: TreeNode, context: Context, found: FoundReference[]): void {
  const relname = node.relname as string;
  const schema = optionalString(node.schemaname);
  const catalog = optionalString(node.catalogname);
  const isUnqualified = schema === undefined && catalog === undefined;
  if (context.access === 'read' && isUnqualified && context.ctes.has(relname)) return;

  const parts = [catalog, schema, relname].filter((part) => part !== undefined);
  const byteOffset = typeof node.location === 'number' ? node.location : -1;
  found.push({ parts, byteOffset, access: context.access });
}

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function isTreeNode(value: unknown): value is TreeNode {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
