/**
 * Readers for the MODEL header properties whose values have a shape of their own: the model name,
 * dialect, interval unit, cron time zone, grains, columns and audits.
 */

import { didYouMean } from '../core/errors.js';
import { isKnownTimeZone, listedTimeZones } from '../core/intervals/time-zones.js';
import {
  type AuditReference,
  type ColumnDefinition,
  DIALECTS,
  type Dialect,
  type HeaderLiteral,
  INTERVAL_UNITS,
  type IntervalUnit,
} from '../core/model.js';
import { type NamePart, normaliseTableName, splitQualifiedName } from '../core/names.js';
import {
  columnName,
  keyWord,
  type ReadContext,
  readList,
  readWord,
  report,
  reportExpected,
  singleNode,
  sourceText,
  splitKeyValue,
  toLiteral,
  type ValueSource,
} from './header-values.js';
import type { HeaderNode, ListNode } from './model-header-parser.js';

const EXPECTED_NAME = 'a model name such as shop.orders';

/** `name shop.orders` (or `'shop.orders'`): two or three parts, normalised. */
export function readModelName(context: ReadContext, source: ValueSource): string | undefined {
  const node = singleNode(context, source, EXPECTED_NAME);
  if (node === undefined) return undefined;
  const parts = nameParts(node);
  if (parts === undefined) {
    reportExpected(context, source, EXPECTED_NAME, node);
    return undefined;
  }

  const name = normaliseTableName(parts);
  if (parts.length < 2 || parts.length > 3) {
    const message = `Model name '${name}' must be schema.table or catalog.schema.table, such as 'shop.orders'; add its schema`;
    report(context, 'model_header_invalid', message, node.start);
    return undefined;
  }
  return name;
}

function nameParts(node: HeaderNode): readonly NamePart[] | undefined {
  if (node.type === 'name') return node.parts;
  return node.type === 'string' ? splitQualifiedName(node.value) : undefined;
}

/** `dialect duckdb`; `postgresql` is accepted as postgres. */
export function readDialect(context: ReadContext, source: ValueSource): Dialect | undefined {
  const word = readWord(context, source, 'duckdb or postgres')?.toLowerCase();
  if (word === undefined) return undefined;
  const dialect = word === 'postgresql' ? 'postgres' : DIALECTS.find((known) => known === word);
  if (dialect !== undefined) return dialect;

  const hint = didYouMean(word, DIALECTS);
  const message = `Dialect '${word}' in ${context.subject} is not supported; Sluice supports duckdb and postgres.${hint}`;
  report(context, 'model_not_supported', message, source.nodes[0]?.start ?? source.key.start);
  return undefined;
}

/** `interval_unit day`. */
export function readIntervalUnit(
  context: ReadContext,
  source: ValueSource,
): IntervalUnit | undefined {
  const word = readWord(context, source, 'an interval unit such as day')?.toLowerCase();
  if (word === undefined) return undefined;
  const unit = INTERVAL_UNITS.find((known) => known === word);
  if (unit !== undefined) return unit;

  if (/^(minute|second)s?$/.test(word)) {
    const message = `${source.label} is '${word}', finer than five minutes; Sluice's finest interval unit is five_minute: use it, or a coarser one`;
    report(context, 'model_header_invalid', message, source.nodes[0]?.start ?? source.key.start);
    return undefined;
  }
  const hint = didYouMean(word, INTERVAL_UNITS);
  const message = `${source.label} must be one of ${INTERVAL_UNITS.join(', ')}, not '${word}'.${hint}`;
  report(context, 'model_header_invalid', message, source.nodes[0]?.start ?? source.key.start);
  return undefined;
}

/** `cron_tz 'Europe/Berlin'`: an IANA time zone that the runtime knows. */
export function readCronTimeZone(context: ReadContext, source: ValueSource): string | undefined {
  const zone = readWord(context, source, "a quoted time zone such as 'Europe/Berlin'");
  if (zone === undefined || isKnownTimeZone(zone)) return zone;

  const hint = didYouMean(zone, listedTimeZones());
  const message = `${source.label} must be an IANA time zone such as 'Europe/Berlin' or 'UTC', not '${zone}'.${hint}`;
  report(context, 'model_header_invalid', message, source.nodes[0]?.start ?? source.key.start);
  return undefined;
}

/** `start '2024-01-01'` or a number such as epoch milliseconds, kept as written. */
export function readTimeBound(context: ReadContext, source: ValueSource): string | undefined {
  const expected = "a date or time such as '2024-01-01'";
  const node = singleNode(context, source, expected);
  if (node?.type === 'string') return node.value;
  if (node?.type === 'number') return sourceText(context, node);
  if (node !== undefined) reportExpected(context, source, expected, node);
  return undefined;
}

/** `tags [finance, 'daily']`: names or strings, kept as written without quotes. */
export function readTags(context: ReadContext, source: ValueSource): string[] | undefined {
  return readList(context, source, 'a tag or a list of tags', (node) => {
    if (node.type === 'string') return node.value;
    return node.type === 'name' ? node.parts.map((part) => part.text).join('.') : undefined;
  });
}

/** The text of one grain: `id`, or `(id, ds)` as `id, ds`. */
function grainText(node: HeaderNode): string | undefined {
  if (node.type !== 'list') return columnName(node);
  if (node.bracket !== '(' || node.items.length === 0) return undefined;
  const columns = node.items.map((item) =>
    item.nodes.length === 1 && item.nodes[0] ? columnName(item.nodes[0]) : undefined,
  );
  return columns.includes(undefined) ? undefined : columns.join(', ');
}

/**
 * `grain id` or `grain (id, ds)` is one grain (a tuple is one composite grain);
 * `grains [a, (b, c)]` or `grains (a, (b, c))` is a list of them, as is a bracketed list after
 * `grain`.
 */
export function readGrains(
  context: ReadContext,
  source: ValueSource,
  isList: boolean,
): string[] | undefined {
  const expected = isList
    ? 'a list of grains such as [id, (customer_id, day)]'
    : 'a column or a tuple of columns';
  const node = singleNode(context, source, expected);
  if (node === undefined) return undefined;

  const elements =
    isList || (node.type === 'list' && node.bracket === '[') ? listElements(node) : [node];
  const grains = elements.map((element) =>
    element === undefined ? undefined : grainText(element),
  );
  if (grains.includes(undefined)) {
    reportExpected(context, source, expected, node);
    return undefined;
  }
  return grains.filter((grain) => grain !== undefined);
}

function listElements(node: HeaderNode): (HeaderNode | undefined)[] {
  if (node.type !== 'list') return [node];
  return node.items.map((item) => (item.nodes.length === 1 ? item.nodes[0] : undefined));
}

/** `columns (id INT, amount DECIMAL(10, 2))`: each type is the rest of its item as written. */
export function readColumns(
  context: ReadContext,
  source: ValueSource,
): ColumnDefinition[] | undefined {
  const expected = 'a list of columns and types such as (id INT, amount DECIMAL(10, 2))';
  const node = singleNode(context, source, expected);
  if (node === undefined) return undefined;
  if (node.type !== 'list') {
    reportExpected(context, source, expected, node);
    return undefined;
  }

  const columns: ColumnDefinition[] = [];
  for (const item of node.items) {
    const [nameNode, typeNode] = item.nodes;
    const name = nameNode && columnName(nameNode);
    if (name === undefined || typeNode === undefined) {
      const message = `Each column of ${context.subject} needs a name and a type, such as \`id INT\``;
      report(context, 'model_header_invalid', message, item.start);
      return undefined;
    }
    if (columns.some((column) => column.name === name)) {
      report(
        context,
        'model_header_invalid',
        `Column '${name}' is declared twice in ${context.subject}; keep one`,
        item.start,
      );
      return undefined;
    }
    columns.push({
      name,
      type: sourceText(context, { start: typeNode.start, end: item.end }).trim(),
    });
  }
  return columns;
}

const EXPECTED_AUDIT = 'an audit such as not_null(columns := (id)), or a list of audits';

/** `audits (unique_values(columns := (id)), not_null(columns = (id)))`, or a single audit. */
export function readAudits(
  context: ReadContext,
  source: ValueSource,
): AuditReference[] | undefined {
  const [first, second] = source.nodes;
  if (first === undefined) {
    singleNode(context, source, EXPECTED_AUDIT);
    return undefined;
  }
  const isList = first.type === 'list' && second === undefined;
  const audits = isList ? first.items.map((item) => item.nodes) : [source.nodes];

  const references: AuditReference[] = [];
  for (const nodes of audits) {
    const reference = readAudit(context, source, nodes);
    if (reference === undefined) return undefined;
    references.push(reference);
  }
  return references;
}

function readAudit(
  context: ReadContext,
  source: ValueSource,
  nodes: readonly HeaderNode[],
): AuditReference | undefined {
  const [nameNode, argumentList, extra] = nodes;
  const isCall =
    argumentList === undefined || (argumentList.type === 'list' && argumentList.bracket === '(');
  if (nameNode?.type !== 'name' || !isCall || extra !== undefined) {
    const found = nodes.find((node) => node.type !== 'name') ?? nodes[0] ?? source.key;
    reportExpected(context, source, EXPECTED_AUDIT, found);
    return undefined;
  }

  const name = normaliseTableName(nameNode.parts);
  const args = argumentList?.type === 'list' ? readAuditArguments(context, name, argumentList) : {};
  return args === undefined ? undefined : { name, args };
}

function readAuditArguments(
  context: ReadContext,
  audit: string,
  list: ListNode,
): Record<string, HeaderLiteral> | undefined {
  const args: Record<string, HeaderLiteral> = {};
  for (const item of list.items) {
    const pair = splitKeyValue(item);
    if (pair === undefined || !pair.hasAssignment || pair.value.length === 0) {
      const message = `Audit '${audit}' in ${context.subject} takes named arguments; write them as \`name := value\`, such as \`${audit}(columns := (id))\``;
      report(context, 'model_header_invalid', message, item.start);
      return undefined;
    }
    const key = keyWord(pair.key);
    if (Object.hasOwn(args, key)) {
      report(
        context,
        'model_header_invalid',
        `Argument '${key}' of audit '${audit}' in ${context.subject} is given twice; keep one`,
        pair.key.start,
      );
      return undefined;
    }
    args[key] = toLiteral(context, pair.value);
  }
  return args;
}
