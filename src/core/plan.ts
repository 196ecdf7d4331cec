import type { TimeRange } from './intervals/range-set.js';

/**
 * A plan: how the project differs from an environment, what each change means for the versions,
 * and what must be built before the environment's views can point at the new versions.
 */

/** How a model differs between the environment and the project. */
export type ChangeKind =
  | 'added'
  | 'removed'
  | 'directly_modified'
  | 'indirectly_modified'
  | 'metadata_only';

/**
 * What a change does to versions. Breaking: a new version, and its downstream models get new
 * versions too. Non-breaking: the model only added columns; it gets a new version but its
 * downstream models keep theirs. Forward-only: the model keeps its table and only new intervals
 * see the change. Metadata: nothing about the data changed.
 */
export type ChangeCategory = 'breaking' | 'non_breaking' | 'forward_only' | 'metadata';

/** One model's change. */
export type ModelChange = {
  readonly modelName: string;
  readonly kind: ChangeKind;
  /** Undefined for added and removed models. */
  readonly category: ChangeCategory | undefined;
  /** Why a direct change is breaking, in a short sentence. */
  readonly reason: string | undefined;
  /** The snapshot the environment has now and the one it will have. */
  readonly before: string | undefined;
  readonly after: string | undefined;
  /** For a direct change, a unified diff of the model's SQL. */
  readonly diff: string | undefined;
};

/** The intervals one version must build before promotion. */
export type Backfill = {
  readonly modelName: string;
  readonly snapshotId: string;
  readonly versionId: string;
  /** Whether the version's table must be created first. */
  readonly needsCreate: boolean;
  readonly ranges: readonly TimeRange[];
  readonly intervals: number;
};

/** What the user asked for besides the environment. */
export type PlanOptions = {
  /** Limits every backfill to this range (development environments only). */
  readonly range: TimeRange | undefined;
  readonly isForwardOnly: boolean;
  /** Models whose intervals (and their downstream models') are computed again. */
  readonly restateModels: readonly string[];
  readonly shouldSkipBackfill: boolean;
  /** When not empty, only changes to these models and their downstream models are planned. */
  readonly selectModels: readonly string[];
};

/** A version whose intervals a restatement clears before the backfill. */
export type Restatement = {
  readonly modelName: string;
  readonly versionId: string;
  readonly ranges: readonly TimeRange[];
};

/**
 * Where a plan's work runs: the project and gateway its tasks name, the gateway's engine (for
 * identifier limits; never its settings) and how long a development environment lives unused.
 * A Scheduler needs it to apply a plan and to run the environment later; the CLI sends it.
 */
export type PlanTarget = {
  readonly projectName: string;
  readonly gateway: string;
  readonly engine: 'duckdb' | 'postgres';
  /** Undefined: the environment never expires (prod always). */
  readonly environmentTtlMs: number | undefined;
};

/** A plan, as shown and as stored. */
export type Plan = {
  readonly id: string;
  readonly environment: string;
  /** The environment's revision when the plan was made; 0 when it did not exist. */
  readonly baseRevision: number;
  readonly createdAt: string;
  readonly options: PlanOptions;
  /** The environment's contents after the plan: snapshot id by model name. */
  readonly snapshotIds: Readonly<Record<string, string>>;
  readonly changes: readonly ModelChange[];
  readonly backfills: readonly Backfill[];
  readonly restatements: readonly Restatement[];
  /** Where its work runs; recorded by plans made through the Scheduler's API. */
  readonly target?: PlanTarget;
};

/** Whether applying the plan would do anything: creating an environment and backfills count. */
export function hasWork(plan: Plan): boolean {
  return (
    plan.baseRevision === 0 ||
    plan.changes.length > 0 ||
    plan.restatements.length > 0 ||
    plan.backfills.length > 0
  );
}
