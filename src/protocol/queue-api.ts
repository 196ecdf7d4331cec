import { z } from 'zod';
import { taskPoolSchema } from './tasks-api.js';

/**
 * What people read about the queue: the Executors that said hello (their pools, slots and when
 * they were last heard from) and how many tasks wait, are held, per pool.
 */

export const executorInfoSchema = z.strictObject({
  executor_id: z.string(),
  client_id: z.string(),
  pools: z.array(taskPoolSchema),
  slots: z.number().int(),
  agent: z.string(),
  protocol_version: z.number().int(),
  started_at_ms: z.number().int(),
  last_seen_at_ms: z.number().int(),
});

export const listExecutorsResponseSchema = z.strictObject({
  executors: z.array(executorInfoSchema),
});

const depthSchema = z.strictObject({
  /** Claimable now or after a retry's backoff. */
  ready: z.number().int(),
  /** Waiting for upstream tasks. */
  blocked: z.number().int(),
  /** Held by an Executor. */
  leased: z.number().int(),
});

export const queueDepthResponseSchema = z.strictObject({
  pools: z.strictObject({ apply: depthSchema, run: depthSchema }),
});
