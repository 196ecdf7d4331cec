import { z } from 'zod';

/**
 * Runs through the Scheduler's API: start a run of an environment, list and inspect runs, follow
 * a run's events (a long poll), cancel it, run again what failed, and restate models over a
 * range. Events and results are in their in-process form (camelCase), as the CLI's reporter
 * reads them in its local mode, so that both print the same.
 */

const nameSchema = z.string().min(1).max(200);

export const RUN_KINDS = ['apply', 'cadence', 'manual'] as const;
export const RUN_STATUSES = ['running', 'succeeded', 'failed', 'cancelled', 'abandoned'] as const;

export const startRunRequestSchema = z.strictObject({
  /** Only these models of the environment; all of them when absent. */
  models: z.array(nameSchema).min(1).optional(),
});

export const restateRequestSchema = z.strictObject({
  /** The models whose intervals (and their downstream models') are evaluated again. */
  models: z.array(nameSchema).min(1),
  start_ms: z.number().int(),
  end_ms: z.number().int(),
});

export const runStartedResponseSchema = z.strictObject({ run_id: z.string() });

/** A run, as listed and shown. */
export const runInfoSchema = z.strictObject({
  id: z.string(),
  kind: z.enum(RUN_KINDS),
  environment: nameSchema,
  pool: z.enum(['apply', 'run']),
  status: z.enum(RUN_STATUSES),
  plan_id: z.string().nullable(),
  requested_by: z.string(),
  created_at_ms: z.number().int(),
  finished_at_ms: z.number().int().nullable(),
  is_cancel_requested: z.boolean(),
  /** What the run recorded when it ended (model results, revision, error); null while it runs. */
  summary: z.record(z.string(), z.unknown()).nullable(),
});

export type RunInfo = z.infer<typeof runInfoSchema>;

export const runPathSchema = z.strictObject({ id: z.string().min(1).max(200) });

export const environmentRunPathSchema = z.strictObject({
  name: nameSchema,
  id: z.string().min(1).max(200),
});

export const listRunsQuerySchema = z.strictObject({
  environment: nameSchema.optional(),
  status: z.enum(RUN_STATUSES).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  before_ms: z.coerce.number().int().optional(),
});

export const listRunsResponseSchema = z.strictObject({ runs: z.array(runInfoSchema) });

export const runResponseSchema = z.strictObject({ run: runInfoSchema });

export const runEventsQuerySchema = z.strictObject({
  after: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(1000).default(500),
  /** How long to wait for an event when none is there yet; 0 answers at once. */
  wait_sec: z.coerce.number().int().min(0).max(50).default(0),
});

export const runEventsResponseSchema = z.strictObject({
  events: z.array(
    z.strictObject({ seq: z.number().int(), event: z.record(z.string(), z.unknown()) }),
  ),
  run: runInfoSchema,
});

export const cancelRunResponseSchema = z.strictObject({ run: runInfoSchema });
