import { z } from 'zod';

/**
 * Plans through the Scheduler's API. `POST /v1/plans` carries the project's snapshots (as the
 * CLI computed them from the project on disk), their order and where the work runs (project,
 * gateway name, engine type: never gateway settings); the Scheduler compares them with its
 * state and answers with the plan. `POST /v1/plans/{id}/apply` starts applying it as a run.
 * Plans travel in their stored form (camelCase, ranges as `[startMs, endMs]`).
 */

const nameSchema = z.string().min(1).max(200);
const rangeSchema = z.tuple([z.number().int(), z.number().int()]);

/** Where a plan's work runs. */
export const planTargetSchema = z.strictObject({
  projectName: nameSchema,
  gateway: nameSchema,
  engine: z.enum(['duckdb', 'postgres']),
  environmentTtlMs: z.number().int().positive().optional(),
});

export const planOptionsSchema = z.strictObject({
  range: rangeSchema.optional(),
  isForwardOnly: z.boolean(),
  restateModels: z.array(nameSchema),
  shouldSkipBackfill: z.boolean(),
  selectModels: z.array(nameSchema),
});

/**
 * A snapshot as the CLI computed it. Its own fields are checked; its model definition and
 * fingerprint pass with their main fields checked only, since no full schema of `Model` exists
 * (see tasks-api.ts).
 */
export const snapshotSchema = z.strictObject({
  id: z.string().min(1).max(600),
  name: nameSchema,
  fingerprint: z.looseObject({ version: z.string(), metadataHash: z.string() }),
  version: z.string().min(1).max(200),
  table: z.looseObject({ schema: z.string(), name: z.string() }).optional(),
  model: z.looseObject({ name: nameSchema, kind: z.looseObject({ name: z.string() }) }),
  variables: z.record(z.string(), z.unknown()),
  audits: z.array(z.looseObject({ name: z.string() })),
});

export const submitPlanRequestSchema = z.strictObject({
  environment: nameSchema,
  target: planTargetSchema,
  /** The project's enabled models, parents first. */
  order: z.array(nameSchema),
  options: planOptionsSchema,
  snapshots: z.array(snapshotSchema).max(100_000),
});

export type SubmitPlanRequest = z.infer<typeof submitPlanRequestSchema>;

const changeSchema = z.strictObject({
  modelName: nameSchema,
  kind: z.enum(['added', 'removed', 'directly_modified', 'indirectly_modified', 'metadata_only']),
  category: z.enum(['breaking', 'non_breaking', 'forward_only', 'metadata']).optional(),
  reason: z.string().optional(),
  before: z.string().optional(),
  after: z.string().optional(),
  diff: z.string().optional(),
});

/** A plan in its stored form. */
export const planSchema = z.strictObject({
  id: z.string(),
  environment: nameSchema,
  baseRevision: z.number().int().nonnegative(),
  createdAt: z.string(),
  options: planOptionsSchema,
  snapshotIds: z.record(z.string(), z.string()),
  changes: z.array(changeSchema),
  backfills: z.array(
    z.strictObject({
      modelName: nameSchema,
      snapshotId: z.string(),
      versionId: z.string(),
      needsCreate: z.boolean(),
      ranges: z.array(rangeSchema),
      intervals: z.number().int().nonnegative(),
    }),
  ),
  restatements: z.array(
    z.strictObject({ modelName: nameSchema, versionId: z.string(), ranges: z.array(rangeSchema) }),
  ),
  target: planTargetSchema.optional(),
});

export type PlanInfo = z.infer<typeof planSchema>;

export const submitPlanResponseSchema = z.strictObject({
  has_changes: z.boolean(),
  /** Stored only when it has changes; absent otherwise. */
  plan: planSchema.optional(),
});

export const planPathSchema = z.strictObject({ id: z.string().min(1).max(200) });

export const applyPlanResponseSchema = z.strictObject({ run_id: z.string() });

/** A stored plan and where it stands. */
export const planInfoResponseSchema = z.strictObject({
  plan: planSchema,
  status: z.enum(['planned', 'applying', 'applied', 'failed']),
});

/** Plan submissions carry every snapshot of a project: a larger body than other requests. */
export const PLAN_BODY_LIMIT_BYTES = 64 * 1024 * 1024;
