import type { Dialect } from '../core/model.js';

/** The stage in which SQL is rendered, exposed to models as `@runtime_stage`. */
export type RuntimeStage =
  | 'loading'
  | 'creating'
  | 'evaluating'
  | 'promoting'
  | 'auditing'
  | 'testing';

/** A value a macro variable can hold. */
export type MacroValue = string | number | boolean | null | readonly MacroValue[];

/** Everything the macro renderer needs to turn a model's SQL into the SQL that runs. */
export type MacroContext = {
  readonly dialect: Dialect;
  /** Start of the interval, inclusive, UTC. */
  readonly start: Date;
  /** End of the interval, exclusive, UTC. `@end_*` variables render this minus one microsecond. */
  readonly end: Date;
  readonly executionTime: Date;
  readonly runtimeStage: RuntimeStage;
  readonly gateway: string;
  /** The SQL text that `@this_model` becomes: the model's own table, already quoted. */
  readonly thisModel: string;
  /** Project variables for `@VAR('name', default)`, keyed by lower-case name. */
  readonly variables: Readonly<Record<string, MacroValue>>;
};
