/**
 * Reads one SQL audit file: SQLMesh's `AUDIT (name ..., dialect ..., blocking ..., defaults (...))`
 * header followed by one query of the failing rows. A file may hold several AUDIT blocks, each a
 * header and its query, as SQLMesh allows.
 */

import type { AuditDefinition } from '../core/audit.js';
import { didYouMean, SluiceError, throwIfAny } from '../core/errors.js';
import type { Dialect, HeaderLiteral } from '../core/model.js';
import { type Token, tokenize } from '../sql/lexer.js';
import {
  keyWord,
  type ReadContext,
  readBoolean,
  readString,
  readWord,
  report,
  splitKeyValue,
  toLiteral,
  type ValueSource,
} from './header-values.js';
import { type ModelHeader, parseModelHeader } from './model-header-parser.js';
import { splitModelStatements } from './model-statements.js';
import { readDialect } from './property-readers.js';
import { createSourceLocator, type SourceLocator } from './source-locator.js';

/** One audit file to parse; `file` is the path used in messages, relative to the project root. */
export type AuditFileInput = {
  readonly file: string;
  readonly text: string;
  /** The dialect of an audit whose header names none: the project's model default. */
  readonly defaultDialect: Dialect;
};

const PROPERTIES = ['name', 'dialect', 'blocking', 'defaults', 'description'];
const UNSUPPORTED_PROPERTIES = new Set(['standalone', 'skip', 'cron', 'owner', 'tags']);

/** Parses an audit file into its definitions; throws every problem found at once. */
export function parseAuditFile(input: AuditFileInput): AuditDefinition[] {
  const locate = createSourceLocator(input.file, input.text);
  const tokens = tokenize(input.text);
  const starts = blockStarts(tokens);
  const first = starts[0];
  if (first === undefined || firstSignificant(tokens) !== first) {
    throw new SluiceError(
      'audit_invalid',
      `Audit file '${input.file}' does not start with an AUDIT header; write \`AUDIT (name ` +
        'my_audit);` and then the query that selects the failing rows',
      { location: locate(tokens[firstSignificant(tokens) ?? 0]?.start ?? 0) },
    );
  }

  const errors: SluiceError[] = [];
  const definitions: AuditDefinition[] = [];
  starts.forEach((start, index) => {
    const end = tokens[starts[index + 1] ?? tokens.length]?.start ?? input.text.length;
    try {
      definitions.push(readBlock(input, { tokens, start, end, locate }, errors));
    } catch (error) {
      if (!(error instanceof SluiceError)) throw error;
      errors.push(error);
    }
  });
  throwIfAny(errors);
  return definitions;
}

/** One AUDIT block: the index of its AUDIT token and the offset where the next block starts. */
type Block = {
  readonly tokens: readonly Token[];
  readonly start: number;
  readonly end: number;
  readonly locate: SourceLocator;
};

function readBlock(input: AuditFileInput, block: Block, errors: SluiceError[]): AuditDefinition {
  const header = parseAuditHeader(input, block);
  const context: ReadContext = {
    text: input.text,
    subject: `audit file '${input.file}'`,
    locate: block.locate,
    errors,
  };
  const properties = readProperties(header, context, input.defaultDialect);

  const bodyTokens = block.tokens.filter((token) => token.start < block.end);
  const body = input.text.slice(0, block.end);
  const statements = splitModelStatements(body, bodyTokens, header.end, block.locate);
  const [query, extra] = statements;
  const origin = block.locate(header.start);
  const subject = `Audit '${properties.name}' in '${input.file}'`;
  if (query === undefined || !query.isQuery) {
    const at = query ?? origin;
    throw new SluiceError(
      'audit_invalid',
      `${subject} has no query; write one SELECT of the failing rows after its AUDIT header`,
      { location: { file: at.file, line: at.line, column: at.column } },
    );
  }
  if (extra !== undefined) {
    throw new SluiceError(
      'audit_invalid',
      `${subject} has more than one statement; an audit is one SELECT of the failing rows ` +
        '(start another audit with its own AUDIT header)',
      { location: { file: extra.file, line: extra.line, column: extra.column } },
    );
  }
  const { sql, file, line, column } = query;
  return { ...properties, query: { sql, file, line, column }, origin };
}

/** The header parsed with the MODEL header's parser: AUDIT and MODEL have the same syntax. */
function parseAuditHeader(input: AuditFileInput, block: Block): ModelHeader {
  const keyword = block.tokens[block.start];
  const tokens = block.tokens.slice(block.start);
  if (keyword !== undefined) tokens[0] = { ...keyword, text: 'MODEL' };
  try {
    return parseModelHeader(input.text, input.file, { locate: block.locate, tokens });
  } catch (error) {
    if (!(error instanceof SluiceError)) throw error;
    const message = error.message.replaceAll('MODEL header', 'AUDIT header');
    throw new SluiceError('audit_invalid', message, { location: error.location, cause: error });
  }
}

type AuditProperties = Omit<AuditDefinition, 'query' | 'origin'>;

function readProperties(
  header: ModelHeader,
  fileContext: ReadContext,
  defaultDialect: Dialect,
): AuditProperties {
  const entries = header.items.flatMap((item) => {
    const pair = splitKeyValue(item);
    if (pair !== undefined) return [{ word: keyWord(pair.key), key: pair.key, nodes: pair.value }];
    const message =
      'Expected a property name at the start of each item of the AUDIT header of ' +
      `${fileContext.subject}, as in \`name assert_positive\``;
    report(fileContext, 'audit_invalid', message, item.start);
    return [];
  });
  const nameEntry = entries.find((entry) => entry.word === 'name');
  const name = nameEntry === undefined ? undefined : readAuditName(fileContext, nameEntry);
  if (name === undefined) {
    if (nameEntry === undefined) {
      const fix = 'add `name <audit_name>`';
      const message = `The AUDIT header in ${fileContext.subject} has no name; ${fix}`;
      report(fileContext, 'audit_invalid', message, header.start);
    }
    throwIfAny(fileContext.errors);
  }

  const context = { ...fileContext, subject: `audit '${name}'` };
  const draft: { -readonly [K in keyof AuditProperties]?: AuditProperties[K] } = {};
  const seen = new Set<string>();
  for (const entry of entries) {
    const source = { ...entry, label: `Property '${entry.word}' in audit '${name}'` };
    if (!acceptProperty(context, source, entry.word, seen)) continue;
    if (entry.word === 'dialect') draft.dialect = readDialect(context, source);
    if (entry.word === 'blocking') draft.isBlocking = readBoolean(context, source);
    if (entry.word === 'description') draft.description = readString(context, source, 'a string');
    if (entry.word === 'defaults') draft.defaults = readDefaults(context, source);
  }
  return {
    name: name ?? '',
    dialect: draft.dialect ?? defaultDialect,
    isBlocking: draft.isBlocking ?? true,
    defaults: draft.defaults ?? {},
    description: draft.description,
  };
}

function readAuditName(context: ReadContext, source: Omit<ValueSource, 'label'>) {
  const label = `Property 'name' in ${context.subject}`;
  return readWord(context, { ...source, label }, 'an audit name such as assert_positive')
    ?.toLowerCase()
    .trim();
}

function acceptProperty(
  context: ReadContext,
  source: ValueSource,
  word: string,
  seen: Set<string>,
): boolean {
  if (UNSUPPORTED_PROPERTIES.has(word)) {
    const feature = source.label;
    const message = `${feature} is a SQLMesh feature that Sluice does not support yet; remove it`;
    report(context, 'model_not_supported', message, source.key.start);
    return false;
  }
  if (!PROPERTIES.includes(word)) {
    const hint = didYouMean(word, PROPERTIES) || ` Supported properties: ${PROPERTIES.join(', ')}.`;
    report(
      context,
      'audit_invalid',
      `Unknown property '${word}' in ${context.subject}.${hint}`,
      source.key.start,
    );
    return false;
  }
  if (seen.has(word)) {
    const message = `Property '${word}' is set twice in ${context.subject}; keep one`;
    report(context, 'audit_invalid', message, source.key.start);
    return false;
  }
  seen.add(word);
  return true;
}

/** `defaults (threshold := 0, column := id)`: parameter values by lower-case name. */
function readDefaults(
  context: ReadContext,
  source: ValueSource,
): Record<string, HeaderLiteral> | undefined {
  const [list, extra] = source.nodes;
  if (list?.type !== 'list' || extra !== undefined) {
    const message = `${source.label} must be a list such as (threshold := 0)`;
    report(context, 'audit_invalid', message, list?.start ?? source.key.start);
    return undefined;
  }
  const defaults: Record<string, HeaderLiteral> = {};
  for (const item of list.items) {
    const pair = splitKeyValue(item);
    if (pair === undefined || !pair.hasAssignment || pair.value.length === 0) {
      const message = `${source.label} lists named values; write each as \`name := value\``;
      report(context, 'audit_invalid', message, item.start);
      return undefined;
    }
    defaults[keyWord(pair.key)] = toLiteral(context, pair.value);
  }
  return defaults;
}

/** Indexes of the AUDIT tokens that start a statement and are followed by `(`. */
function blockStarts(tokens: readonly Token[]): number[] {
  const significant = [...tokens.entries()].filter(
    ([, token]) => token.type !== 'whitespace' && token.type !== 'comment',
  );
  const starts: number[] = [];
  let isStatementStart = true;
  for (const [position, [index, token]] of significant.entries()) {
    const isAudit = token.type === 'identifier' && token.text.toUpperCase() === 'AUDIT';
    if (isStatementStart && isAudit && significant[position + 1]?.[1].text === '(') {
      starts.push(index);
    }
    isStatementStart = token.text === ';';
  }
  return starts;
}

function firstSignificant(tokens: readonly Token[]): number | undefined {
  const index = tokens.findIndex(
    (token) => token.type !== 'whitespace' && token.type !== 'comment',
  );
  return index === -1 ? undefined : index;
}
