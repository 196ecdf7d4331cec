/**
 * The `kind` property: a kind name, optionally followed by its parameters in parentheses, as in
 * `INCREMENTAL_BY_TIME_RANGE (time_column order_date, batch_size 30)`.
 */

import { dirname, resolve } from 'node:path';
import { didYouMean } from '../core/errors.js';
import { MODEL_KIND_NAMES, type ModelKind, type ModelKindName } from '../core/model.js';
import {
  columnName,
  type ReadContext,
  report,
  reportExpected,
  singleNode,
  type ValueSource,
} from './header-values.js';
import { KindParameters, readKindParameters } from './kind-parameters.js';
import type { NameNode } from './model-header-parser.js';

/** SQLMesh's other names for supported kinds. */
const KIND_ALIASES: Readonly<Record<string, ModelKindName>> = { SCD_TYPE_2_BY_TIME: 'SCD_TYPE_2' };

const UNSUPPORTED_KINDS = new Set([
  'INCREMENTAL_BY_PARTITION',
  'INCREMENTAL_UNMANAGED',
  'SCD_TYPE_2_BY_COLUMN',
  'MANAGED',
  'CUSTOM',
]);

/** What reading a kind needs beyond the common context: the model file, to resolve seed paths. */
export type KindContext = ReadContext & { readonly absolutePath: string };

const EXPECTED_KIND = 'a kind such as FULL or INCREMENTAL_BY_TIME_RANGE (time_column <column>)';

/**
 * Reads the value of `kind`. Returns undefined only when the kind itself is unknown or not
 * supported; problems with its parameters are reported and replaced by placeholders, since the
 * reported errors stop the model from loading anyway.
 */
export function readModelKind(context: KindContext, source: ValueSource): ModelKind | undefined {
  const [nameNode, list, extra] = source.nodes;
  const hasParameterList = list?.type === 'list' && list.bracket === '(';
  if (nameNode?.type !== 'name' || nameNode.parts.length !== 1) {
    if (nameNode === undefined) singleNode(context, source, EXPECTED_KIND);
    else reportExpected(context, source, EXPECTED_KIND, nameNode);
    return undefined;
  }
  const unexpected = extra ?? (list !== undefined && !hasParameterList ? list : undefined);
  if (unexpected !== undefined) {
    reportExpected(context, source, EXPECTED_KIND, unexpected);
    return undefined;
  }

  const name = resolveKindName(context, nameNode);
  if (name === undefined) return undefined;
  const items = list?.type === 'list' ? list.items : [];
  const parameters = readKindParameters(context, name, items);
  return KIND_BUILDERS[name](new KindParameters(context, name, nameNode, parameters), context);
}

function resolveKindName(context: KindContext, node: NameNode): ModelKindName | undefined {
  const written = node.parts[0]?.text.toUpperCase() ?? '';
  const name = KIND_ALIASES[written] ?? MODEL_KIND_NAMES.find((kind) => kind === written);
  if (name !== undefined) return name;

  const supported = MODEL_KIND_NAMES.join(', ');
  if (UNSUPPORTED_KINDS.has(written)) {
    const message = `Kind '${written}' in ${context.subject} is a SQLMesh feature that Sluice does not support yet; use one of ${supported}`;
    report(context, 'model_not_supported', message, node.start);
  } else {
    const hint = didYouMean(written, MODEL_KIND_NAMES) || ` Supported kinds: ${supported}.`;
    report(
      context,
      'model_kind_unknown',
      `Unknown kind '${written}' in ${context.subject}.${hint}`,
      node.start,
    );
  }
  return undefined;
}

type KindBuilder = (parameters: KindParameters, context: KindContext) => ModelKind;

const KIND_BUILDERS: Readonly<Record<ModelKindName, KindBuilder>> = {
  VIEW: (parameters) => ({ name: 'VIEW', isMaterialized: parameters.boolean('materialized') }),
  FULL: () => ({ name: 'FULL' }),
  INCREMENTAL_BY_TIME_RANGE: buildTimeRangeKind,
  INCREMENTAL_BY_UNIQUE_KEY: (parameters) => ({
    name: 'INCREMENTAL_BY_UNIQUE_KEY',
    uniqueKey: requireUniqueKey(parameters, 'INCREMENTAL_BY_UNIQUE_KEY'),
    ...parameters.incrementalSettings(),
  }),
  SCD_TYPE_2: (parameters) => ({
    name: 'SCD_TYPE_2',
    uniqueKey: requireUniqueKey(parameters, 'SCD_TYPE_2'),
    updatedAtName: parameters.column('updated_at_name', 'updated_at'),
    validFromName: parameters.column('valid_from_name', 'valid_from'),
    validToName: parameters.column('valid_to_name', 'valid_to'),
    shouldInvalidateHardDeletes: parameters.boolean('invalidate_hard_deletes'),
    isUpdatedAtValidFrom: parameters.boolean('updated_at_as_valid_from'),
    isForwardOnly: parameters.boolean('forward_only'),
  }),
  SEED: buildSeedKind,
  EXTERNAL: () => ({ name: 'EXTERNAL' }),
  EMBEDDED: () => ({ name: 'EMBEDDED' }),
};

function requireUniqueKey(parameters: KindParameters, kind: ModelKindName): readonly string[] {
  const fix = `add \`unique_key <column>\` or \`unique_key (<column>, <column>)\` to the kind: ${kind} (unique_key id)`;
  parameters.require('unique_key', fix);
  return parameters.columns('unique_key');
}

function buildTimeRangeKind(parameters: KindParameters): ModelKind {
  const fix =
    'add `time_column <column>` to the kind: INCREMENTAL_BY_TIME_RANGE (time_column order_date)';
  const source = parameters.source('time_column');
  const timeColumn = source === undefined ? undefined : readTimeColumn(parameters.context, source);
  if (source === undefined) parameters.require('time_column', fix);
  return {
    name: 'INCREMENTAL_BY_TIME_RANGE',
    timeColumn: timeColumn?.column ?? '',
    timeColumnFormat: timeColumn?.format,
    ...parameters.incrementalSettings(),
  };
}

/** `time_column order_date` or `time_column (order_date, '%Y-%m-%d')`. */
function readTimeColumn(
  context: ReadContext,
  source: ValueSource,
): { column: string; format: string | undefined } | undefined {
  const expected = "a column name, or a column and its format such as (order_date, '%Y-%m-%d')";
  const node = singleNode(context, source, expected);
  if (node === undefined) return undefined;

  const [columnNode, formatNode, extra] =
    node.type === 'list' ? node.items.map((item) => item.nodes) : [[node]];
  const column = columnNode?.length === 1 && columnNode[0] ? columnName(columnNode[0]) : undefined;
  const format =
    formatNode?.length === 1 && formatNode[0]?.type === 'string' ? formatNode[0].value : undefined;
  if (
    column === undefined ||
    (formatNode !== undefined && format === undefined) ||
    extra !== undefined
  ) {
    reportExpected(context, source, expected, node);
    return undefined;
  }
  return { column, format };
}

function buildSeedKind(parameters: KindParameters, context: KindContext): ModelKind {
  const fix =
    "add `path '<file>.csv'` to the kind, relative to the model file: SEED (path '../seeds/orders.csv')";
  const declaredPath = parameters.require('path', fix)
    ? (parameters.string('path', "a file path such as '../seeds/orders.csv'") ?? '')
    : '';
  return {
    name: 'SEED',
    path: resolve(dirname(context.absolutePath), declaredPath),
    declaredPath,
    batchSize: parameters.integer('batch_size', 1),
  };
}
