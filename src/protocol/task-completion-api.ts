import { z } from 'zod';

/**
 * `POST /v1/tasks/{id}/complete` of the pull protocol (tasks-api.ts): the outcome of one attempt
 * and its cost, sent with an Idempotency-Key header so that a replay gets the first answer.
 */

/** The header that makes a completion idempotent: 1-200 printable ASCII characters. */
export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';

/**
 * The headers of a completion; other headers are allowed, since clients and proxies add their
 * own.
 */
export const completeHeadersSchema = z.looseObject({
  [IDEMPOTENCY_KEY_HEADER]: z.string().regex(/^[\x20-\x7e]{1,200}$/, {
    message: 'must be 1-200 printable ASCII characters',
  }),
});

const countSchema = z.number().int().nonnegative();

/** What an audit task found: how many rows failed and a few of them. */
export const auditFindingsSchema = z.strictObject({
  failed_rows: countSchema,
  sample_rows: z.array(z.record(z.string(), z.unknown())).max(100),
});

/** A task error: code, a message with nothing secret in it, and whether a retry may help. */
export const taskErrorSchema = z.strictObject({
  code: z.string().min(1).max(100),
  message: z.string(),
  retryable: z.boolean(),
});

export const succeededOutcomeSchema = z.strictObject({
  status: z.literal('succeeded'),
  rows_written: countSchema,
  duration_ms: countSchema,
  audit: auditFindingsSchema.optional(),
});

export const failedOutcomeSchema = z.strictObject({
  status: z.literal('failed'),
  duration_ms: countSchema,
  error: taskErrorSchema,
  audit: auditFindingsSchema.optional(),
});

/** How the attempt ended. */
export const taskOutcomeSchema = z.discriminatedUnion('status', [
  succeededOutcomeSchema,
  failedOutcomeSchema,
]);

export type TaskOutcomeInfo = z.infer<typeof taskOutcomeSchema>;

/** What the attempt cost, as far as the engine says. */
export const taskCostSchema = z.strictObject({
  bytes_scanned: countSchema.optional(),
  engine_query_ids: z.array(z.string().max(200)).max(1000).optional(),
});

export const completeRequestSchema = z.strictObject({
  epoch: z.number().int().min(1),
  outcome: taskOutcomeSchema,
  cost: taskCostSchema.optional(),
});

export type CompleteRequest = z.infer<typeof completeRequestSchema>;

/** What the queue keeps of an accepted completion: the outcome and the cost, as sent. */
export type TaskCompleteReport = Pick<CompleteRequest, 'outcome' | 'cost'>;

/** What became of the task; the same answer again for a replay under the same key. */
export const completeResponseSchema = z.strictObject({
  task_status: z.enum(['succeeded', 'failed', 'retrying', 'cancelled']),
  /** When a retried task is claimable again; null otherwise. */
  retry_at_ms: z.number().int().nullable(),
  /** How many tasks downstream were skipped because this one failed or was cancelled. */
  skipped_tasks: countSchema,
});

export type CompleteResponse = z.infer<typeof completeResponseSchema>;
