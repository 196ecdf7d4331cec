import { z } from 'zod';

/**
 * Cost (readers of state): totals of the priced task attempts per model, run or environment over
 * an optional time range, and an environment's own cost with the cost it avoided by reusing
 * versions that other environments built. Amounts are kept apart per currency; attempts whose
 * gateway has no rate count as unpriced, with their usage.
 */

export const COST_GROUPINGS = ['model', 'run', 'environment'] as const;

export const costGroupingSchema = z.enum(COST_GROUPINGS);

export type CostGroupingName = z.infer<typeof costGroupingSchema>;

const INSTANT =
  /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2}))?$/;

/**
 * The epoch milliseconds of an ISO 8601 date (UTC midnight) or date and time with `Z` or an
 * offset; undefined for anything else, a time without a zone included.
 */
export function parseInstantMs(text: string): number | undefined {
  if (!INSTANT.test(text)) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

const instantSchema = z
  .string()
  .max(40)
  .refine((text) => parseInstantMs(text) !== undefined, {
    message:
      'must be an ISO 8601 date or time with a zone, such as 2024-05-01 or 2024-05-01T12:00Z',
  });

/** `GET /v1/cost`: totals grouped by model (default), run or environment. */
export const costQuerySchema = z.strictObject({
  group_by: costGroupingSchema.optional(),
  /** Only the attempts of this environment's runs. */
  environment: z.string().min(1).max(128).optional(),
  /** Attempts priced at or after this instant. */
  since: instantSchema.optional(),
  /** Attempts priced before this instant. */
  until: instantSchema.optional(),
});

export type CostQuery = z.infer<typeof costQuerySchema>;

export const costAmountSchema = z.strictObject({
  /** An ISO 4217 code, as the rate names it. */
  currency: z.string(),
  amount: z.number(),
});

const countSchema = z.number().int().nonnegative();

/** The cost and usage of one model, run or environment. */
export const costTotalSchema = z.strictObject({
  /** The model, run or environment; null for attempts without one (promotions have no model). */
  key: z.string().nullable(),
  costs: z.array(costAmountSchema),
  attempts: countSchema,
  /** Attempts without a cost: no rate for their gateway, or no usage the rate prices. */
  unpriced_attempts: countSchema,
  duration_ms: countSchema,
  bytes_scanned: countSchema,
  rows_written: countSchema,
});

export type CostTotalInfo = z.infer<typeof costTotalSchema>;

export const costTotalsResponseSchema = z.strictObject({
  group_by: costGroupingSchema,
  totals: z.array(costTotalSchema),
});

export type CostTotalsInfo = z.infer<typeof costTotalsResponseSchema>;

/** What an environment avoided paying by reusing versions that other environments built. */
export const avoidedCostSchema = z.strictObject({
  costs: z.array(costAmountSchema),
  /** How many of the environment's versions other environments paid to build. */
  versions: countSchema,
  attempts: countSchema,
});

/** `GET /v1/environments/{name}/cost`. */
export const environmentCostResponseSchema = z.strictObject({
  environment: z.string(),
  total: costTotalSchema,
  avoided: avoidedCostSchema,
});

export type EnvironmentCostInfo = z.infer<typeof environmentCostResponseSchema>;
