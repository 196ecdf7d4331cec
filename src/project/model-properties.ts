/**
 * Gives meaning to the items of a MODEL header: checks each property name against the ones Sluice
 * supports, reads its value into a typed field and applies the project's model defaults. Problems
 * are collected, not thrown, so a file's independent mistakes are reported together.
 */

import { didYouMean, type SluiceError } from '../core/errors.js';
import type { ModelDefaults, ModelDefinition, ModelKind } from '../core/model.js';
import {
  capitalise,
  keyWord,
  type ReadContext,
  readBoolean,
  readList,
  readString,
  readWord,
  report,
  splitKeyValue,
  tableName,
  type ValueSource,
} from './header-values.js';
import { checkModelIntervals } from './interval-checks.js';
import { KIND_PARAMETER_NAMES } from './kind-parameters.js';
import type { ModelHeader } from './model-header-parser.js';
import { type KindContext, readModelKind } from './model-kind.js';
import {
  readAudits,
  readColumns,
  readCronTimeZone,
  readDialect,
  readGrains,
  readIntervalUnit,
  readModelName,
  readTags,
  readTimeBound,
} from './property-readers.js';
import type { SourceLocator } from './source-locator.js';

/** The header's part of a model definition. */
export type ModelProperties = Omit<
  ModelDefinition,
  'kind' | 'origin' | 'query' | 'preStatements' | 'postStatements'
> & {
  /** Undefined only when the kind is unknown or unsupported, which has been reported. */
  readonly kind: ModelKind | undefined;
};

/** What reading the properties needs besides the header; problems are pushed onto `errors`. */
export type PropertiesInput = {
  readonly file: string;
  readonly absolutePath: string;
  readonly defaults: ModelDefaults;
  readonly locate: SourceLocator;
  readonly errors: SluiceError[];
};

type Draft = { -readonly [K in keyof ModelProperties]?: ModelProperties[K] };

type PropertyReader = (context: KindContext, source: ValueSource, draft: Draft) => void;

const PROPERTY_READERS: Readonly<Record<string, PropertyReader>> = {
  name: () => {},
  kind: (context, source, draft) => {
    draft.kind = readModelKind(context, source);
  },
  dialect: (context, source, draft) => {
    draft.dialect = readDialect(context, source);
  },
  cron: (context, source, draft) => {
    draft.cron = readString(context, source, "a cron string such as '@daily'");
  },
  cron_tz: (context, source, draft) => {
    draft.cronTimeZone = readCronTimeZone(context, source);
  },
  interval_unit: (context, source, draft) => {
    draft.intervalUnit = readIntervalUnit(context, source);
  },
  start: (context, source, draft) => {
    draft.start = readTimeBound(context, source);
  },
  end: (context, source, draft) => {
    draft.end = readTimeBound(context, source);
  },
  grain: (context, source, draft) => {
    draft.grains = readGrains(context, source, false);
  },
  grains: (context, source, draft) => {
    draft.grains = readGrains(context, source, true);
  },
  tags: (context, source, draft) => {
    draft.tags = readTags(context, source);
  },
  owner: (context, source, draft) => {
    draft.owner = readWord(context, source, "a name or a string such as 'jen'");
  },
  description: (context, source, draft) => {
    draft.description = readString(context, source, "a string such as 'Orders by day'");
  },
  columns: (context, source, draft) => {
    draft.columns = readColumns(context, source);
  },
  audits: (context, source, draft) => {
    draft.audits = readAudits(context, source);
  },
  depends_on: (context, source, draft) => {
    draft.dependsOn = readList(context, source, 'a model name or a list of model names', tableName);
  },
  enabled: (context, source, draft) => {
    draft.isEnabled = readBoolean(context, source);
  },
  allow_partials: (context, source, draft) => {
    draft.allowsPartials = readBoolean(context, source);
  },
};

/** Properties that set the same field, so that setting both is reported like setting one twice. */
const SAME_FIELD: Readonly<Record<string, string>> = { grain: 'grains' };

/** SQLMesh properties that Sluice reports by name instead of ignoring. */
const UNSUPPORTED_PROPERTIES = new Set([
  'partitioned_by',
  'clustered_by',
  'table_format',
  'storage_format',
  'physical_properties',
  'virtual_properties',
  'session_properties',
  'table_properties',
  'stamp',
  'signals',
  'references',
  'column_descriptions',
  'gateway',
  'optimize_query',
  'formatting',
  'ignored_rules',
  'validate_query',
  'physical_version',
  'virtual_environment_mode',
  'project',
  'on_destructive_change',
  'on_additive_change',
  'blueprints',
]);

const DEFAULT_KIND: ModelKind = { name: 'VIEW', isMaterialized: false };

/** Reads every property of a header, applying defaults where it is silent. */
export function readModelProperties(header: ModelHeader, input: PropertiesInput): ModelProperties {
  const fileContext: ReadContext = {
    text: header.text,
    subject: `model file '${input.file}'`,
    locate: input.locate,
    errors: input.errors,
  };
  const entries = collectEntries(header, fileContext);
  const name = readNameEntry(entries, fileContext, header.start);

  const subject = name === undefined ? fileContext.subject : `model '${name}'`;
  const kindContext: KindContext = { ...fileContext, subject, absolutePath: input.absolutePath };

  const draft: Draft = {};
  const seen = new Map<string, ValueSource>();
  for (const entry of entries) {
    const source = { ...entry, label: `Property '${entry.word}' in ${subject}` };
    if (acceptProperty(kindContext, source, entry.word, seen)) {
      PROPERTY_READERS[entry.word]?.(kindContext, source, draft);
    }
  }
  const properties = applyDefaults(draft, name ?? '', seen.has('kind'), input.defaults);
  if (name !== undefined) {
    checkModelIntervals(kindContext, properties, seen, {
      headerStart: header.start,
      nowMs: Date.now(),
    });
  }
  return properties;
}

type Entry = Omit<ValueSource, 'label'> & { readonly word: string };

/** Reads `name` first, so that every other message can name the model. */
function readNameEntry(
  entries: readonly Entry[],
  context: ReadContext,
  headerStart: number,
): string | undefined {
  const entry = entries.find((candidate) => candidate.word === 'name');
  if (entry === undefined) {
    const message = `${capitalise(context.subject)} has no name; add \`name <schema>.<table>\` to its MODEL header`;
    report(context, 'model_header_invalid', message, headerStart);
    return undefined;
  }
  return readModelName(context, { ...entry, label: `Property 'name' in ${context.subject}` });
}

function collectEntries(header: ModelHeader, context: ReadContext): Entry[] {
  const entries: Entry[] = [];
  for (const item of header.items) {
    const pair = splitKeyValue(item);
    if (pair === undefined) {
      const message = `Expected a property name at the start of each item of the MODEL header of ${context.subject}, as in \`cron '@daily'\``;
      report(context, 'model_header_invalid', message, item.start);
      continue;
    }
    entries.push({ word: keyWord(pair.key), key: pair.key, nodes: pair.value });
  }
  return entries;
}

/** Whether a property is supported and not set before, which it records; reports it otherwise. */
function acceptProperty(
  context: ReadContext,
  source: ValueSource,
  word: string,
  seen: Map<string, ValueSource>,
): boolean {
  if (UNSUPPORTED_PROPERTIES.has(word)) {
    const message = `${source.label} is a SQLMesh feature that Sluice does not support yet; remove it`;
    report(context, 'model_not_supported', message, source.key.start);
    return false;
  }
  if (PROPERTY_READERS[word] === undefined) {
    reportUnknownProperty(context, word, source.key.start);
    return false;
  }

  const field = SAME_FIELD[word] ?? word;
  const earlier = seen.get(field);
  if (earlier !== undefined) {
    const lines = `lines ${context.locate(earlier.key.start).line} and ${context.locate(source.key.start).line}`;
    const message = `Property '${word}' is set twice in ${context.subject} (${lines}); keep one`;
    report(context, 'model_header_invalid', message, source.key.start);
    return false;
  }
  seen.set(field, source);
  return true;
}

function reportUnknownProperty(context: ReadContext, word: string, offset: number): void {
  const known = Object.keys(PROPERTY_READERS);
  const hint = KIND_PARAMETER_NAMES.has(word)
    ? ` '${word}' is a parameter of the kind; move it inside the kind's parentheses: kind <KIND> (..., ${word} <value>).`
    : didYouMean(word, known) || ` Supported properties: ${known.join(', ')}.`;
  const message = `Unknown property '${word}' in ${context.subject}.${hint}`;
  report(context, 'model_property_unknown', message, offset);
}

function applyDefaults(
  draft: Draft,
  name: string,
  hasKind: boolean,
  defaults: ModelDefaults,
): ModelProperties {
  return {
    name,
    kind: hasKind ? draft.kind : DEFAULT_KIND,
    dialect: draft.dialect ?? defaults.dialect,
    cron: draft.cron ?? defaults.cron,
    cronTimeZone: draft.cronTimeZone ?? defaults.cronTimeZone,
    intervalUnit: draft.intervalUnit ?? defaults.intervalUnit,
    start: draft.start ?? defaults.start,
    end: draft.end,
    grains: draft.grains ?? [],
    tags: draft.tags ?? [],
    owner: draft.owner ?? defaults.owner,
    description: draft.description,
    columns: draft.columns ?? [],
    audits: draft.audits ?? [],
    dependsOn: draft.dependsOn ?? [],
    isEnabled: draft.isEnabled ?? defaults.isEnabled,
    allowsPartials: draft.allowsPartials ?? defaults.allowsPartials,
  };
}
