/**
 * Reads one SQL model file: the MODEL header, then its statements, of which exactly one is the
 * query; the statements before it are pre-statements and the ones after it post-statements.
 */

import { SluiceError, throwIfAny } from '../core/errors.js';
import type {
  ModelDefaults,
  ModelDefinition,
  ModelKind,
  ModelOrigin,
  SqlSource,
} from '../core/model.js';
import { tokenize } from '../sql/lexer.js';
import { capitalise } from './header-values.js';
import { parseModelHeader } from './model-header-parser.js';
import { readModelProperties } from './model-properties.js';
import { type ModelStatement, splitModelStatements } from './model-statements.js';
import { createSourceLocator } from './source-locator.js';

/** One model file to parse. */
export type ModelFileInput = {
  /** The path used in messages, relative to the project root. */
  readonly file: string;
  /** The absolute path, from which seed paths are resolved. */
  readonly absolutePath: string;
  readonly text: string;
  readonly defaults: ModelDefaults;
};

/** Kinds whose rows do not come from a query. */
const QUERYLESS_KINDS = new Set<ModelKind['name']>(['SEED', 'EXTERNAL']);

/**
 * Parses one SQL model file. Throws a SluiceError for one problem, or SluiceErrors for several;
 * a syntax error in the header stops parsing at once.
 */
export function parseModelFile(input: ModelFileInput): ModelDefinition {
  const locate = createSourceLocator(input.file, input.text);
  const tokens = tokenize(input.text);
  const header = parseModelHeader(input.text, input.file, { locate, tokens });
  const errors: SluiceError[] = [];
  const properties = readModelProperties(header, { ...input, locate, errors });
  const subject =
    properties.name === '' ? `model file '${input.file}'` : `model '${properties.name}'`;

  const origin: ModelOrigin = locate(header.start);
  const statements = splitModelStatements(input.text, tokens, header.end, locate);
  const model = { kind: properties.kind, subject: capitalise(subject), origin };
  const parts = splitAroundQuery(statements, model, errors);
  throwIfAny(errors.sort(byLocation));

  if (properties.kind === undefined) {
    throw new SluiceError(
      'internal',
      `The kind of ${subject} was not read, yet no error was reported`,
    );
  }
  return { ...properties, kind: properties.kind, origin, ...parts };
}

type StatementParts = Pick<ModelDefinition, 'query' | 'preStatements' | 'postStatements'>;

/** What splitting needs to know of the model: its kind, how to name it, and where it starts. */
type ModelFacts = {
  readonly kind: ModelKind | undefined;
  readonly subject: string;
  readonly origin: ModelOrigin;
};

function splitAroundQuery(
  statements: readonly ModelStatement[],
  { kind, subject, origin }: ModelFacts,
  errors: SluiceError[],
): StatementParts {
  const queries = statements.filter((statement) => statement.isQuery);
  const [first, second] = queries;
  const sources = statements.map(toSqlSource);

  if (kind !== undefined && QUERYLESS_KINDS.has(kind.name)) {
    if (first !== undefined) {
      const message = `${subject} has kind ${kind.name}, which takes no query; remove the query at line ${first.line}`;
      errors.push(queryError(message, first));
    }
    return { query: undefined, preStatements: sources, postStatements: [] };
  }
  if (second !== undefined && first !== undefined) {
    const message = `${subject} has more than one query (lines ${first.line} and ${second.line}); keep one SELECT, and put other statements before or after it`;
    errors.push(queryError(message, second));
  } else if (first === undefined && kind !== undefined) {
    const message = `${subject} has no query; add a SELECT statement after the MODEL header`;
    errors.push(queryError(message, origin));
  }

  const queryIndex = first === undefined ? sources.length : statements.indexOf(first);
  return {
    query: sources[queryIndex],
    preStatements: sources.slice(0, queryIndex),
    postStatements: sources.slice(queryIndex + 1),
  };
}

function toSqlSource(statement: ModelStatement): SqlSource {
  return {
    sql: statement.sql,
    file: statement.file,
    line: statement.line,
    column: statement.column,
  };
}

function queryError(message: string, at: ModelOrigin): SluiceError {
  const location = { file: at.file, line: at.line, column: at.column };
  return new SluiceError('model_query_invalid', message, { location });
}

/** Orders errors as they appear in the file. */
function byLocation(a: SluiceError, b: SluiceError): number {
  const lineOrder = (a.location?.line ?? 0) - (b.location?.line ?? 0);
  return lineOrder !== 0 ? lineOrder : (a.location?.column ?? 0) - (b.location?.column ?? 0);
}
