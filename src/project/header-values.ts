/**
 * Readers that turn the nodes of one header value into typed values. Each reader reports a problem
 * into the context's error list and returns undefined, so that one file's independent problems are
 * all reported together.
 */

import { type ErrorCode, SluiceError } from '../core/errors.js';
import type { HeaderLiteral } from '../core/model.js';
import { normaliseTableName, splitQualifiedName } from '../core/names.js';
import type { HeaderItem, HeaderNode, NameNode, Span } from './model-header-parser.js';
import type { SourceLocator } from './source-locator.js';

/**
 * What the readers need: the file's text, how to name the model in messages, and where to report.
 */
export type ReadContext = {
  readonly text: string;
  /** `model 'shop.orders'`, or `model file 'models/x.sql'` while the name is unknown. */
  readonly subject: string;
  readonly locate: SourceLocator;
  readonly errors: SluiceError[];
};

/**
 * A value to read: what it is called in messages (`Property 'cron' in model 'x'`), its nodes and
 * key.
 */
export type ValueSource = {
  readonly label: string;
  readonly key: Span;
  readonly nodes: readonly HeaderNode[];
};

/** Records a problem at an offset of the file. */
export function report(
  context: ReadContext,
  code: ErrorCode,
  message: string,
  offset: number,
): void {
  context.errors.push(new SluiceError(code, message, { location: context.locate(offset) }));
}

/** The value's only node, or undefined after reporting that it is missing or has extra parts. */
export function singleNode(
  context: ReadContext,
  source: ValueSource,
  expected: string,
): HeaderNode | undefined {
  const [first, second] = source.nodes;
  if (first === undefined) {
    const message = `${source.label} has no value; give it ${expected}`;
    report(context, 'model_header_invalid', message, source.key.start);
    return undefined;
  }
  if (second !== undefined) {
    const message = `${source.label} has more than one value; give it ${expected}, or add the comma that separates it from what follows`;
    report(context, 'model_header_invalid', message, second.start);
    return undefined;
  }
  return first;
}

/** Reports that a value is not of the expected type. */
export function reportExpected(
  context: ReadContext,
  source: ValueSource,
  expected: string,
  found: HeaderNode | Span,
): void {
  const message = `${source.label} must be ${expected}, not ${describe(context, found)}`;
  report(context, 'model_header_invalid', message, found.start);
}

/** A string value: `'@daily'`. */
export function readString(
  context: ReadContext,
  source: ValueSource,
  expected: string,
): string | undefined {
  const node = singleNode(context, source, expected);
  if (node === undefined) return undefined;
  if (node.type === 'string') return node.value;
  reportExpected(context, source, expected, node);
  return undefined;
}

/** A word written either as a name or as a string: `owner jen`, `dialect 'duckdb'`. */
export function readWord(
  context: ReadContext,
  source: ValueSource,
  expected: string,
): string | undefined {
  const node = singleNode(context, source, expected);
  if (node === undefined) return undefined;
  if (node.type === 'string') return node.value;
  if (node.type === 'name') return node.parts.map((part) => part.text).join('.');
  reportExpected(context, source, expected, node);
  return undefined;
}

/** `true` or `false`. */
export function readBoolean(context: ReadContext, source: ValueSource): boolean | undefined {
  const node = singleNode(context, source, 'true or false');
  if (node === undefined) return undefined;
  if (node.type === 'boolean') return node.value;
  reportExpected(context, source, 'true or false', node);
  return undefined;
}

/** A whole number of at least `minimum`. */
export function readInteger(
  context: ReadContext,
  source: ValueSource,
  minimum: 0 | 1,
): number | undefined {
  const expected = minimum === 1 ? 'a positive integer' : 'a non-negative integer';
  const node = singleNode(context, source, expected);
  if (node === undefined) return undefined;
  if (node.type === 'number' && Number.isInteger(node.value) && node.value >= minimum) {
    return node.value;
  }
  reportExpected(context, source, expected, node);
  return undefined;
}

/** A single column name: `updated_at`, `"Updated At"`. */
export function readColumn(context: ReadContext, source: ValueSource): string | undefined {
  const node = singleNode(context, source, 'a column name');
  if (node === undefined) return undefined;
  const column = columnName(node);
  if (column === undefined) reportExpected(context, source, 'a column name', node);
  return column;
}

/** A column name: one part, normalised like table names. */
export function columnName(node: HeaderNode): string | undefined {
  return node.type === 'name' && node.parts.length === 1
    ? normaliseTableName(node.parts)
    : undefined;
}

/** A table name written as a name or as a string, normalised; undefined when it is not a name. */
export function tableName(node: HeaderNode): string | undefined {
  if (node.type === 'name') return normaliseTableName(node.parts);
  if (node.type !== 'string') return undefined;
  const parts = splitQualifiedName(node.value);
  return parts === undefined ? undefined : normaliseTableName(parts);
}

/**
 * The elements of a value that may be one element or a list of them: `a`, `(a, b)`, `[a, b]`.
 * Each element must be a single node accepted by `read`; undefined after reporting otherwise.
 */
export function readList<T>(
  context: ReadContext,
  source: ValueSource,
  expected: string,
  read: (node: HeaderNode) => T | undefined,
): T[] | undefined {
  const node = singleNode(context, source, expected);
  if (node === undefined) return undefined;
  const elements = node.type === 'list' ? node.items.map(onlyNode) : [node];

  const values: T[] = [];
  for (const [index, element] of elements.entries()) {
    const value = element === undefined ? undefined : read(element);
    if (value === undefined) {
      reportExpected(context, source, expected, element ?? itemAt(node, index));
      return undefined;
    }
    values.push(value);
  }
  return values;
}

/** The single node of an item, or undefined when it has several. */
export function onlyNode(item: HeaderItem): HeaderNode | undefined {
  return item.nodes.length === 1 ? item.nodes[0] : undefined;
}

function itemAt(list: HeaderNode, index: number): Span {
  return list.type === 'list' ? (list.items[index] ?? list) : list;
}

/** Splits `key value`, `key := value` or `key = value` into its key and value nodes. */
export function splitKeyValue(item: HeaderItem): KeyValue | undefined {
  const [key, ...rest] = item.nodes;
  if (key?.type !== 'name' || key.parts.length !== 1 || key.parts[0]?.quoted) return undefined;
  const [first, ...afterFirst] = rest;
  const hasAssignment = first?.type === 'symbol' && (first.text === ':=' || first.text === '=');
  return { key, value: hasAssignment ? afterFirst : rest, hasAssignment };
}

/**
 * An item split into its key and value; `hasAssignment` tells whether `:=` or `=` separated them.
 */
export type KeyValue = {
  readonly key: NameNode;
  readonly value: readonly HeaderNode[];
  readonly hasAssignment: boolean;
};

/** The lower-cased word of a key node. */
export function keyWord(key: NameNode): string {
  return key.parts
    .map((part) => part.text)
    .join('.')
    .toLowerCase();
}

/**
 * Converts an argument to a literal: strings, numbers, booleans and null as themselves, lists as
 * arrays, and names or expressions as their source text (`status`, `"Order Id"`, `amount > 0`).
 */
export function toLiteral(context: ReadContext, nodes: readonly HeaderNode[]): HeaderLiteral {
  const [node, second] = nodes;
  if (node === undefined) return null;
  if (second !== undefined) return sourceText(context, { start: node.start, end: spanEnd(nodes) });
  switch (node.type) {
    case 'string':
    case 'number':
    case 'boolean':
      return node.value;
    case 'null':
      return null;
    case 'list':
      return node.items.map((item) => toLiteral(context, item.nodes));
    default:
      return sourceText(context, node);
  }
}

/** The text of a span as written in the file. */
export function sourceText(context: ReadContext, span: Span): string {
  return context.text.slice(span.start, span.end);
}

function spanEnd(nodes: readonly HeaderNode[]): number {
  return nodes[nodes.length - 1]?.end ?? 0;
}

/** Describes what was written by its type; numbers are short and safe to show as written. */
function describe(context: ReadContext, found: HeaderNode | Span): string {
  if (!('type' in found)) return 'an expression';
  switch (found.type) {
    case 'number':
      return sourceText(context, found);
    case 'string':
      return 'a string';
    case 'name':
      return 'a name';
    case 'list':
      return 'a list';
    case 'boolean':
      return 'a boolean';
    case 'null':
      return 'null';
    case 'symbol':
      return `'${found.text}'`;
  }
}

/** Starts a sentence with a subject: `model 'x'` becomes `Model 'x'`. */
export function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
