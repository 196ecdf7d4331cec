import { SluiceError, type SourceLocation } from '../core/errors.js';
import type { ModelDefinition, SqlSource } from '../core/model.js';
import { quoteTableName } from '../sql/dialect.js';
import { lineAndColumn, significantTokens } from '../sql/lexer.js';
import type { MacroContext } from '../sql/macro-context.js';
import { renderModelStatements } from '../sql/macros/macro-renderer.js';
import { createSqlParser, type SqlParser, SqlSyntaxError } from '../sql/sql-parser.js';
import type { ProjectConfig } from './project-config.js';
import { ReferenceCache, type StatementTables } from './reference-cache.js';

/** The tables a model's SQL reads and writes, by normalised name. */
export type ModelTables = {
  readonly reads: ReadonlySet<string>;
  readonly writes: ReadonlySet<string>;
};

/** DuckDB statements that read no tables and that the PostgreSQL grammar does not know. */
const SESSION_STATEMENTS = new Set([
  'install',
  'load',
  'pragma',
  'set',
  'reset',
  'attach',
  'detach',
  'use',
]);

/** Placeholder interval used to render models for dependency extraction. */
const PLACEHOLDER_START = new Date(Date.UTC(1970, 0, 1));
const PLACEHOLDER_END = new Date(Date.UTC(1970, 0, 2));

/**
 * Finds each model's tables: renders its statements with placeholder macro values, parses each
 * with the dialect's parser and collects the names it reads and writes. Parser results are cached
 * per rendered statement; the parser itself is loaded only on the first cache miss.
 */
export class DependencyFinder {
  private parser: Promise<SqlParser> | undefined;
  /** Statements parsed by this finder, and statements answered from the cache. */
  readonly counts = { parsed: 0, cached: 0 };

  constructor(
    private readonly config: ProjectConfig,
    private readonly cache: ReferenceCache,
  ) {}

  /** The tables of one model; throws a located SluiceError for a macro or syntax error. */
  async find(model: ModelDefinition): Promise<ModelTables> {
    const reads = new Set<string>();
    const writes = new Set<string>();
    for (const [source, sql] of this.render(model)) {
      const tables = await this.tablesOf(source, sql, model);
      for (const name of tables.reads) reads.add(name);
      for (const name of tables.writes) writes.add(name);
    }
    return { reads, writes };
  }

  /** Saves the cache and closes the parser. */
  async close(): Promise<void> {
    await this.cache.save();
    if (this.parser !== undefined) await (await this.parser).close();
  }

  /** Pairs each rendered statement with its source; `@DEF` statements render to nothing. */
  private render(model: ModelDefinition): [SqlSource, string][] {
    const rendered = renderModelStatements(
      model.preStatements,
      model.query,
      model.postStatements,
      this.placeholderContext(model),
    );
    const pairs: [SqlSource, string][] = [];
    pairs.push(...zipStatements(model.preStatements, rendered.pre));
    if (model.query !== undefined && rendered.query !== undefined) {
      pairs.push([model.query, rendered.query]);
    }
    pairs.push(...zipStatements(model.postStatements, rendered.post));
    return pairs;
  }

  private placeholderContext(model: ModelDefinition): MacroContext {
    return {
      dialect: model.dialect,
      start: PLACEHOLDER_START,
      end: PLACEHOLDER_END,
      executionTime: PLACEHOLDER_END,
      runtimeStage: 'loading',
      gateway: this.config.defaultGateway,
      thisModel: quoteTableName(model.dialect, model.name),
      variables: this.config.variables,
    };
  }

  private async tablesOf(source: SqlSource, sql: string, model: ModelDefinition) {
    const dialect = model.dialect;
    if (dialect === 'duckdb' && isSessionStatement(sql)) return { reads: [], writes: [] };

    const key = ReferenceCache.keyOf(dialect, sql);
    const cached = this.cache.get(key);
    if (cached !== undefined) {
      this.counts.cached++;
      return cached;
    }

    this.counts.parsed++;
    const tables = await this.parse(source, sql, model);
    this.cache.set(key, tables);
    return tables;
  }

  private async parse(source: SqlSource, sql: string, model: ModelDefinition) {
    this.parser ??= createSqlParser();
    const parser = await this.parser;
    try {
      const references = await parser.findReferences(sql, model.dialect);
      const reads = new Set<string>();
      const writes = new Set<string>();
      for (const reference of references) {
        (reference.access === 'read' ? reads : writes).add(reference.name);
      }
      const tables: StatementTables = { reads: [...reads], writes: [...writes] };
      return tables;
    } catch (error) {
      if (error instanceof SqlSyntaxError) throw locateSyntaxError(error, source, sql, model.name);
      throw error;
    }
  }
}

function zipStatements(sources: readonly SqlSource[], rendered: readonly string[]) {
  const kept = sources.filter((source) => !/^@def\s*\(/i.test(source.sql.trimStart()));
  return kept.map((source, index) => [source, rendered[index] ?? ''] as [SqlSource, string]);
}

function isSessionStatement(sql: string): boolean {
  const first = significantTokens(sql.slice(0, 64))[0];
  return first !== undefined && SESSION_STATEMENTS.has(first.text.toLowerCase());
}

/**
 * Places a syntax error in the model file. When macros changed the text, offsets in the rendered
 * SQL no longer match the file exactly: the line is kept (macros rarely add lines) and the column
 * is left out rather than guessed.
 */
function locateSyntaxError(
  error: SqlSyntaxError,
  source: SqlSource,
  sql: string,
  modelName: string,
): SluiceError {
  const offset = error.offset ?? 0;
  const inStatement = lineAndColumn(sql, offset);
  const line = source.line + inStatement.line - 1;
  const isExact = sql === source.sql;
  const column =
    inStatement.line === 1 ? source.column + inStatement.column - 1 : inStatement.column;
  const location: SourceLocation = isExact
    ? { file: source.file, line, column }
    : { file: source.file, line };
  return new SluiceError(
    'sql_syntax',
    `SQL syntax error in model '${modelName}': ${error.message}; correct the SQL there`,
    { location, cause: error },
  );
}
