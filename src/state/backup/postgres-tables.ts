import { type Kysely, sql } from 'kysely';

/**
 * What a PostgreSQL export and restore need to know about the store's tables, read from the
 * catalog: columns with their types, the primary key (the order rows are read in), foreign keys
 * (the order tables are written in) and the sequences behind serial and identity columns.
 */

/** A column as exported: bytes travel as base64, everything else as PostgreSQL's text form. */
export type ExportColumn = {
  readonly name: string;
  readonly type: string;
  readonly isBytes: boolean;
};

/** A table as exported. */
export type ExportTable = {
  readonly name: string;
  readonly columns: readonly ExportColumn[];
  /** Primary key columns in key order; empty when the table has none. */
  readonly primaryKey: readonly string[];
};

// biome-ignore lint/suspicious/noExplicitAny: catalog queries run on any Kysely of the store
type AnyDb = Kysely<any>;

type ColumnRow = { table: string; name: string; type: string; generated: boolean };
type KeyRow = { table: string; name: string };
type ReferenceRow = { child: string; parent: string };

/** Describes `names` in `schema`, ordered so that a table comes after the tables it references. */
export async function describeTables(
  db: AnyDb,
  schema: string,
  names: readonly string[],
): Promise<ExportTable[]> {
  const columns = await columnsOf(db, schema, names);
  const keys = await primaryKeysOf(db, schema, names);

  const tables = names.map((name) => ({
    name,
    columns: columns
      .filter((row) => row.table === name && !row.generated)
      .map((row) => ({ name: row.name, type: row.type, isBytes: row.type === 'bytea' })),
    primaryKey: keys.filter((row) => row.table === name).map((row) => row.name),
  }));
  return orderByReferences(tables, await references(db, schema));
}

/** Moves every table's sequences (serial and identity columns) past the values it holds. */
export async function advanceSequences(db: AnyDb, schema: string, table: string): Promise<void> {
  const qualified = `${quoteIdentifier(schema)}.${quoteIdentifier(table)}`;
  const sequences = await sql<{ column: string; sequence: string }>`
    SELECT a.attname AS column, pg_get_serial_sequence(${qualified}, a.attname) AS sequence
    FROM pg_attribute a
    WHERE a.attrelid = ${qualified}::regclass AND a.attnum > 0 AND NOT a.attisdropped
      AND pg_get_serial_sequence(${qualified}, a.attname) IS NOT NULL`.execute(db);

  for (const { column, sequence } of sequences.rows) {
    // Never moves a sequence back: values handed out before the restore are not reused.
    await sql`
      SELECT setval(${sequence}::regclass, GREATEST(
        (SELECT max(${sql.id(column)}) FROM ${sql.id(schema, table)}),
        (SELECT last_value FROM ${sql.raw(sequence)})))`.execute(db);
  }
}

/** A double-quoted identifier. */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

async function columnsOf(db: AnyDb, schema: string, names: readonly string[]) {
  const result = await sql<ColumnRow>`
    SELECT c.relname AS table, a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type,
           a.attgenerated <> '' AS generated
    FROM pg_attribute a
    JOIN pg_class c ON c.oid = a.attrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = ${schema} AND c.relname = ANY(${[...names]})
      AND a.attnum > 0 AND NOT a.attisdropped
    ORDER BY c.relname, a.attnum`.execute(db);
  return result.rows;
}

async function primaryKeysOf(db: AnyDb, schema: string, names: readonly string[]) {
  const result = await sql<KeyRow>`
    SELECT c.relname AS table, a.attname AS name
    FROM pg_index i
    JOIN pg_class c ON c.oid = i.indrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = ANY(i.indkey)
    WHERE n.nspname = ${schema} AND c.relname = ANY(${[...names]}) AND i.indisprimary
    ORDER BY c.relname, array_position(i.indkey::int2[], a.attnum)`.execute(db);
  return result.rows;
}

async function references(db: AnyDb, schema: string): Promise<ReferenceRow[]> {
  const result = await sql<ReferenceRow>`
    SELECT child.relname AS child, parent.relname AS parent
    FROM pg_constraint co
    JOIN pg_class child ON child.oid = co.conrelid
    JOIN pg_class parent ON parent.oid = co.confrelid
    JOIN pg_namespace n ON n.oid = child.relnamespace
    WHERE co.contype = 'f' AND n.nspname = ${schema}`.execute(db);
  return result.rows;
}

/** Parents before children; tables in a reference cycle keep their given order at the end. */
function orderByReferences(tables: ExportTable[], edges: ReferenceRow[]): ExportTable[] {
  const ordered: ExportTable[] = [];
  let remaining = tables;
  while (remaining.length > 0) {
    const waiting = new Set(remaining.map((table) => table.name));
    const ready = remaining.filter(
      (table) =>
        !edges.some(
          (edge) =>
            edge.child === table.name && edge.parent !== table.name && waiting.has(edge.parent),
        ),
    );
    if (ready.length === 0) return [...ordered, ...remaining];
    ordered.push(...ready);
    remaining = remaining.filter((table) => !ready.includes(table));
  }
  return ordered;
}
