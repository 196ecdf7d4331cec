import type { EngineSession, QueryOptions, TableName } from '../../engines/engine-adapter.js';
import type { ViewTarget } from '../../protocol/task.js';

/**
 * PostgreSQL replaces a view in place only when the new query keeps every column of the old one,
 * in order, with the same name, type, type modifier and collation (it may append columns). An
 * environment's view is `SELECT * FROM <table>`, so its new columns are exactly its table's.
 * Both sides are read from the catalog in one query, which is far cheaper than trying each
 * replacement behind a savepoint (bench/promote.mjs measures both).
 */

/** A column as the catalog describes it, reduced to what PostgreSQL compares. */
type CatalogColumn = {
  readonly name: string;
  readonly typeOid: string;
  readonly typeModifier: string;
  readonly collation: string;
};

/** Readable relations: tables, partitioned tables, views, materialized views, foreign tables. */
const COLUMNS_OF_RELATIONS =
  'SELECT t.position, c.relkind AS kind, a.attname AS name, ' +
  'a.atttypid::text AS type_oid, a.atttypmod::text AS type_modifier, ' +
  'a.attcollation::text AS collation ' +
  'FROM unnest($1::text[], $2::text[]) ' +
  'WITH ORDINALITY AS t(schema_name, relation_name, position) ' +
  'JOIN pg_catalog.pg_namespace n ON n.nspname = t.schema_name ' +
  'JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = t.relation_name ' +
  "AND c.relkind IN ('r', 'p', 'v', 'm', 'f') " +
  'JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped ' +
  'ORDER BY t.position, a.attnum';

/**
 * The targets whose existing view PostgreSQL would refuse to replace in place: those must be
 * dropped and created again. A view that does not exist yet, a name held by something other than
 * a view, or a table that does not exist is not among them: CREATE OR REPLACE VIEW reports the
 * last two itself.
 */
export async function viewsWithChangedColumns(
  session: EngineSession,
  targets: readonly ViewTarget[],
  options: QueryOptions,
): Promise<ReadonlySet<ViewTarget>> {
  const relations = [...targets.map((target) => target.view), ...targets.map((t) => t.table)];
  const columns = await readColumns(session, relations, options);

  const changed = new Set<ViewTarget>();
  targets.forEach((target, index) => {
    const view = columns.get(index);
    const table = columns.get(targets.length + index);
    if (view?.isView !== true || table === undefined) return;
    if (!isPrefixOf(view.columns, table.columns)) changed.add(target);
  });
  return changed;
}

/** A relation's kind and columns, by its position in the list asked about (0-based). */
type RelationColumns = Map<number, { isView: boolean; columns: CatalogColumn[] }>;

async function readColumns(
  session: EngineSession,
  relations: readonly TableName[],
  options: QueryOptions,
): Promise<RelationColumns> {
  const result = await session.query(
    COLUMNS_OF_RELATIONS,
    [relations.map((table) => table.schema), relations.map((table) => table.name)],
    options,
  );

  const byPosition: RelationColumns = new Map();
  for (const row of result.rows) {
    const position = Number(row.position) - 1;
    const relation = byPosition.get(position) ?? { isView: row.kind === 'v', columns: [] };
    relation.columns.push({
      name: String(row.name),
      typeOid: String(row.type_oid),
      typeModifier: String(row.type_modifier),
      collation: String(row.collation),
    });
    byPosition.set(position, relation);
  }
  return byPosition;
}

/** Whether `after` starts with every column of `before`, unchanged and in the same order. */
function isPrefixOf(before: readonly CatalogColumn[], after: readonly CatalogColumn[]): boolean {
  if (after.length < before.length) return false;
  return before.every((column, index) => {
    const other = after[index];
    return (
      other !== undefined &&
      other.name === column.name &&
      other.typeOid === column.typeOid &&
      other.typeModifier === column.typeModifier &&
      other.collation === column.collation
    );
  });
}
