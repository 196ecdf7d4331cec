/**
 * Finds the tables a SQL statement reads and writes, with a real parser for its dialect.
 *
 * PostgreSQL SQL is parsed by libpg-query (PostgreSQL's own parser in WebAssembly) only. DuckDB SQL
 * is parsed by libpg-query first, since most DuckDB SQL is also PostgreSQL SQL and libpg-query is
 * several times faster; when it reports a syntax error, DuckDB's own parser decides, and its error
 * is the one reported.
 *
 * Known shortcoming: DuckDB's `json_serialize_sql` serialises SELECT statements only. A DuckDB
 * statement of another kind (INSERT, CREATE, ... in pre and post statements) that uses DuckDB-only
 * syntax cannot be analysed, and neither can a PIVOT without an IN list (DuckDB turns it into
 * several statements); both are reported as an error asking for syntax the PostgreSQL grammar
 * accepts. A DuckDB interface that serialises every kind of statement would remove this limit.
 */

import { hasSqlDetails, loadModule, type ParseResult, parseSync, type SqlError } from 'libpg-query';
import { SluiceError } from '../core/errors.js';
import type { Dialect } from '../core/model.js';
import { findDuckDbReferences } from './duckdb-references.js';
import { createDuckDbSqlSerializer, type DuckDbSqlSerializer } from './duckdb-sql-serializer.js';
import { findPostgresReferences } from './postgres-references.js';
import { SqlSyntaxError } from './sql-syntax-error.js';
import { locateReferences, type TableReference } from './table-reference.js';
import { createOffsetConverter } from './text-offsets.js';

export { rewriteReferences } from './reference-rewriter.js';
export { SqlSyntaxError } from './sql-syntax-error.js';
export type { TableReference } from './table-reference.js';

/** Finds table references in SQL statements; holds the parsers, so create one and reuse it. */
export type SqlParser = {
  /**
   * The tables one statement reads or writes, one entry per occurrence, in no particular order;
   * CTE names in scope are never returned. Throws a SqlSyntaxError when the SQL does not parse.
   */
  findReferences(sql: string, dialect: Dialect): Promise<readonly TableReference[]>;
  /** Releases DuckDB's parser if it was opened. */
  close(): Promise<void>;
};

/** Loads libpg-query; DuckDB's parser is opened only when DuckDB SQL first needs it. */
export async function createSqlParser(): Promise<SqlParser> {
  await loadModule();
  const duckdb = createDuckDbSqlSerializer();
  return {
    findReferences: async (sql, dialect) => findReferences(sql, dialect, duckdb),
    close: () => duckdb.close(),
  };
}

async function findReferences(
  sql: string,
  dialect: Dialect,
  duckdb: DuckDbSqlSerializer,
): Promise<readonly TableReference[]> {
  const parsed = parseWithPostgres(sql);
  if (parsed.tree !== undefined) {
    return locateReferences(sql, findPostgresReferences(parsed.tree), 'normalised');
  }
  if (dialect === 'postgres') {
    throw syntaxError(sql, parsed.error.message, parsed.error.sqlDetails?.cursorPosition, dialect);
  }
  return findWithDuckDb(sql, parsed.error, duckdb);
}

type PostgresParse =
  | { readonly tree: ParseResult; readonly error?: undefined }
  | { readonly tree?: undefined; readonly error: SqlError };

function parseWithPostgres(sql: string): PostgresParse {
  // libpg-query refuses an empty string but parses white space to no statements.
  if (sql.length === 0) return { tree: { version: 0, stmts: [] } };
  try {
    return { tree: parseSync(sql) };
  } catch (error) {
    if (hasSqlDetails(error)) return { error };
    throw new SluiceError('internal', 'The PostgreSQL parser failed unexpectedly', {
      cause: error,
    });
  }
}

async function findWithDuckDb(
  sql: string,
  postgresError: SqlError,
  duckdb: DuckDbSqlSerializer,
): Promise<readonly TableReference[]> {
  const result = await duckdb.serialize(sql);
  if (result.kind === 'statements') {
    return locateReferences(sql, findDuckDbReferences(result.statements), 'as-written');
  }
  if (result.kind === 'not_select') {
    throw new SqlSyntaxError(
      `${sentence(postgresError.message)}: Sluice reads DuckDB-only syntax in SELECT statements ` +
        'only, not in other statements (such as INSERT or CREATE) nor in a PIVOT without an IN ' +
        'list; write this statement in syntax that the PostgreSQL grammar also accepts',
      stringIndex(sql, postgresError.sqlDetails?.cursorPosition),
      postgresError,
    );
  }
  throw syntaxError(sql, result.message, result.position, 'duckdb');
}

function syntaxError(
  sql: string,
  message: string,
  codePointOffset: number | undefined,
  dialect: Dialect,
): SqlSyntaxError {
  // Callers add the file location and the advice to correct the SQL there.
  return new SqlSyntaxError(
    `${sentence(message)} (parsed as ${dialect} SQL)`,
    stringIndex(sql, codePointOffset),
  );
}

/** Both parsers count error positions in characters (code points) from the statement's start. */
function stringIndex(sql: string, codePointOffset: number | undefined): number | undefined {
  return codePointOffset === undefined
    ? undefined
    : createOffsetConverter(sql).fromCodePoint(codePointOffset);
}

function sentence(message: string): string {
  return message.charAt(0).toUpperCase() + message.slice(1);
}
