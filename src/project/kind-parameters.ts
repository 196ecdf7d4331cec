/**
 * The parameters of a model kind (`time_column order_date, batch_size 30`): which ones each kind
 * takes, and typed access to them that reports unknown, unsupported, repeated or ill-typed ones.
 */

import { didYouMean } from '../core/errors.js';
import type { ModelKindName } from '../core/model.js';
import {
  capitalise,
  columnName,
  keyWord,
  type ReadContext,
  readBoolean,
  readColumn,
  readInteger,
  readList,
  readString,
  report,
  splitKeyValue,
  type ValueSource,
} from './header-values.js';
import type { HeaderItem, NameNode } from './model-header-parser.js';

/** The parameters each kind accepts. */
export const KIND_PARAMETERS: Readonly<Record<ModelKindName, readonly string[]>> = {
  VIEW: ['materialized'],
  FULL: [],
  INCREMENTAL_BY_TIME_RANGE: ['time_column', 'batch_size', 'lookback', 'forward_only'],
  INCREMENTAL_BY_UNIQUE_KEY: ['unique_key', 'batch_size', 'lookback', 'forward_only'],
  SCD_TYPE_2: [
    'unique_key',
    'updated_at_name',
    'valid_from_name',
    'valid_to_name',
    'invalidate_hard_deletes',
    'updated_at_as_valid_from',
    'forward_only',
  ],
  SEED: ['path', 'batch_size'],
  EXTERNAL: [],
  EMBEDDED: [],
};

/** Every parameter some kind accepts, to point out one written outside the kind. */
export const KIND_PARAMETER_NAMES: ReadonlySet<string> = new Set(
  Object.values(KIND_PARAMETERS).flat(),
);

/** SQLMesh kind parameters that Sluice reports by name instead of ignoring. */
const UNSUPPORTED_PARAMETERS = new Set([
  'when_matched',
  'merge_filter',
  'batch_concurrency',
  'auto_restatement_cron',
  'auto_restatement_intervals',
  'disable_restatement',
  'on_destructive_change',
  'on_additive_change',
  'time_data_type',
  'partition_by_time_column',
  'csv_settings',
]);

/** Reads the parameter list of a kind into a map by name, reporting bad entries. */
export function readKindParameters(
  context: ReadContext,
  kind: ModelKindName,
  items: readonly HeaderItem[],
): Map<string, ValueSource> {
  const allowed = KIND_PARAMETERS[kind];
  const parameters = new Map<string, ValueSource>();
  for (const item of items) {
    const pair = splitKeyValue(item);
    if (pair === undefined) {
      const message = `Expected a parameter such as \`batch_size 30\` in kind ${kind} of ${context.subject}`;
      report(context, 'model_header_invalid', message, item.start);
      continue;
    }

    const key = keyWord(pair.key);
    const label = `Parameter '${key}' of kind ${kind} in ${context.subject}`;
    if (UNSUPPORTED_PARAMETERS.has(key)) {
      const message = `${label} is a SQLMesh feature that Sluice does not support yet; remove it`;
      report(context, 'model_not_supported', message, pair.key.start);
    } else if (!allowed.includes(key)) {
      reportUnknownParameter(context, kind, key, pair.key);
    } else if (parameters.has(key)) {
      report(context, 'model_header_invalid', `${label} is set twice; keep one`, pair.key.start);
    } else {
      parameters.set(key, { label, key: pair.key, nodes: pair.value });
    }
  }
  return parameters;
}

function reportUnknownParameter(
  context: ReadContext,
  kind: ModelKindName,
  key: string,
  node: NameNode,
): void {
  const allowed = KIND_PARAMETERS[kind];
  const accepted =
    allowed.length === 0
      ? `Kind ${kind} takes no parameters.`
      : `Kind ${kind} takes ${allowed.join(', ')}.`;
  const hint = didYouMean(key, allowed) || ` ${accepted}`;
  const message = `Unknown parameter '${key}' for kind ${kind} in ${context.subject}.${hint}`;
  report(context, 'model_property_unknown', message, node.start);
}

/** Typed access to one kind's parameters, reporting problems as it reads them. */
export class KindParameters {
  constructor(
    readonly context: ReadContext,
    private readonly kind: ModelKindName,
    private readonly kindNode: NameNode,
    private readonly parameters: ReadonlyMap<string, ValueSource>,
  ) {}

  source(name: string): ValueSource | undefined {
    return this.parameters.get(name);
  }

  boolean(name: string): boolean {
    const source = this.parameters.get(name);
    return (source && readBoolean(this.context, source)) ?? false;
  }

  integer(name: string, minimum: 0 | 1): number | undefined {
    const source = this.parameters.get(name);
    return source && readInteger(this.context, source, minimum);
  }

  column(name: string, fallback: string): string {
    const source = this.parameters.get(name);
    if (source === undefined) return fallback;
    return readColumn(this.context, source) ?? fallback;
  }

  columns(name: string): readonly string[] {
    const source = this.parameters.get(name);
    if (source === undefined) return [];
    return (
      readList(this.context, source, 'a column name or a list of column names', columnName) ?? []
    );
  }

  string(name: string, expected: string): string | undefined {
    const source = this.parameters.get(name);
    return source && readString(this.context, source, expected);
  }

  /** Reports a missing required parameter, naming the fix; returns whether it is present. */
  require(name: string, fix: string): boolean {
    if (this.parameters.has(name)) return true;
    const subject = capitalise(this.context.subject);
    const message = `${subject} has kind ${this.kind} but no ${name}; ${fix}`;
    report(this.context, 'model_header_invalid', message, this.kindNode.start);
    return false;
  }

  incrementalSettings(): {
    batchSize: number | undefined;
    lookback: number;
    isForwardOnly: boolean;
  } {
    return {
      batchSize: this.integer('batch_size', 1),
      lookback: this.integer('lookback', 0) ?? 0,
      isForwardOnly: this.boolean('forward_only'),
    };
  }
}
