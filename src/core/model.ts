/**
 * The domain model of a project: models, their kinds and the properties that the MODEL header
 * declares. These types are pure data; the project loader fills them and every later part (engines,
 * versions, plans, the scheduler) reads them.
 */

/** The SQL dialects Sluice parses and renders. */
export type Dialect = 'duckdb' | 'postgres';

export const DIALECTS: readonly Dialect[] = ['duckdb', 'postgres'];

/** The unit of a model's intervals, as in SQLMesh's `interval_unit`. */
export type IntervalUnit =
  | 'five_minute'
  | 'quarter_hour'
  | 'half_hour'
  | 'hour'
  | 'day'
  | 'month'
  | 'year';

export const INTERVAL_UNITS: readonly IntervalUnit[] = [
  'five_minute',
  'quarter_hour',
  'half_hour',
  'hour',
  'day',
  'month',
  'year',
];

export type ModelKindName = ModelKind['name'];

export const MODEL_KIND_NAMES: readonly ModelKindName[] = [
  'VIEW',
  'FULL',
  'INCREMENTAL_BY_TIME_RANGE',
  'INCREMENTAL_BY_UNIQUE_KEY',
  'SCD_TYPE_2',
  'SEED',
  'EXTERNAL',
  'EMBEDDED',
];

/** Settings shared by the incremental kinds. */
export type IncrementalSettings = {
  /** How many intervals one evaluation task covers at most; unset means all missing at once. */
  readonly batchSize: number | undefined;
  /** How many intervals before the missing ones are processed again, for late data. */
  readonly lookback: number;
  /** A forward-only model keeps its table across breaking changes. */
  readonly isForwardOnly: boolean;
};

export type ModelKind =
  | { readonly name: 'VIEW'; readonly isMaterialized: boolean }
  | { readonly name: 'FULL' }
  | ({
      readonly name: 'INCREMENTAL_BY_TIME_RANGE';
      readonly timeColumn: string;
      /** A strftime-style format when the time column is stored as text. */
      readonly timeColumnFormat: string | undefined;
    } & IncrementalSettings)
  | ({
      readonly name: 'INCREMENTAL_BY_UNIQUE_KEY';
      readonly uniqueKey: readonly string[];
    } & IncrementalSettings)
  | {
      readonly name: 'SCD_TYPE_2';
      readonly uniqueKey: readonly string[];
      readonly updatedAtName: string;
      readonly validFromName: string;
      readonly validToName: string;
      readonly shouldInvalidateHardDeletes: boolean;
      readonly isUpdatedAtValidFrom: boolean;
      readonly isForwardOnly: boolean;
    }
  | {
      readonly name: 'SEED';
      /** Absolute path of the CSV file. */
      readonly path: string;
      /** The path as written in the model, relative to the model file. */
      readonly declaredPath: string;
      readonly batchSize: number | undefined;
    }
  | { readonly name: 'EXTERNAL' }
  | { readonly name: 'EMBEDDED' };

/** A column declared in the header (`columns (id INT, ...)`) or in external_models.yaml. */
export type ColumnDefinition = { readonly name: string; readonly type: string };

/** A value written in a MODEL header, kept as data for audits and later features. */
export type HeaderLiteral =
  | string
  | number
  | boolean
  | null
  | readonly HeaderLiteral[]
  | { readonly [key: string]: HeaderLiteral };

/** An audit attached to a model: `not_null(columns := (id))`. */
export type AuditReference = {
  readonly name: string;
  readonly args: Readonly<Record<string, HeaderLiteral>>;
};

/** A piece of SQL text and where it starts in its file (1-based line and column). */
export type SqlSource = {
  readonly sql: string;
  readonly file: string;
  readonly line: number;
  readonly column: number;
};

/** Where a model was defined. */
export type ModelOrigin = { readonly file: string; readonly line: number; readonly column: number };

/**
 * A model as declared by its file, before dependencies are resolved. Names are normalised: unquoted
 * parts lower-cased, joined with dots (`shop.orders`).
 */
export type ModelDefinition = {
  readonly name: string;
  readonly kind: ModelKind;
  readonly dialect: Dialect;
  readonly cron: string;
  /** The IANA time zone the cron is evaluated in (`cron_tz`); undefined means UTC. */
  readonly cronTimeZone: string | undefined;
  readonly intervalUnit: IntervalUnit | undefined;
  /** The first interval's start as written (a date, timestamp or relative expression). */
  readonly start: string | undefined;
  readonly end: string | undefined;
  readonly grains: readonly string[];
  readonly tags: readonly string[];
  readonly owner: string | undefined;
  readonly description: string | undefined;
  readonly columns: readonly ColumnDefinition[];
  readonly audits: readonly AuditReference[];
  /** Dependencies declared with `depends_on`; they add to the ones found in the query. */
  readonly dependsOn: readonly string[];
  readonly isEnabled: boolean;
  readonly allowsPartials: boolean;
  readonly origin: ModelOrigin;
  /** The model's query; absent for SEED and EXTERNAL models. */
  readonly query: SqlSource | undefined;
  /** Statements run before the query in the same session, including `@DEF` definitions. */
  readonly preStatements: readonly SqlSource[];
  readonly postStatements: readonly SqlSource[];
};

/** A model with the dependencies found by parsing its SQL. */
export type Model = ModelDefinition & {
  /** Names of the project's models that this model reads, sorted. */
  readonly dependencies: readonly string[];
  /** Tables it reads that are neither models nor CTEs (declared or undeclared sources). */
  readonly externalTables: readonly string[];
};

/** Defaults from `model_defaults` in sluice.yaml, applied where a model's header is silent. */
export type ModelDefaults = {
  readonly dialect: Dialect;
  readonly cron: string;
  readonly cronTimeZone: string | undefined;
  readonly owner: string | undefined;
  readonly start: string | undefined;
  readonly intervalUnit: IntervalUnit | undefined;
  readonly allowsPartials: boolean;
  readonly isEnabled: boolean;
};

export const BUILT_IN_MODEL_DEFAULTS: ModelDefaults = {
  dialect: 'duckdb',
  cron: '@daily',
  cronTimeZone: undefined,
  owner: undefined,
  start: undefined,
  intervalUnit: undefined,
  allowsPartials: false,
  isEnabled: true,
};
