import { z } from 'zod';

/** The environments API: list and inspect environments, invalidate a development one. */

export const environmentSchema = z.strictObject({
  name: z.string(),
  revision: z.number().int().nonnegative(),
  models: z.number().int().nonnegative(),
  plan_id: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
  last_used_at: z.string(),
  expires_at: z.string().nullable(),
});

export type EnvironmentInfo = z.infer<typeof environmentSchema>;

export const environmentPathSchema = z.strictObject({ name: z.string().min(1).max(128) });

export const listEnvironmentsResponseSchema = z.strictObject({
  environments: z.array(environmentSchema),
});

export const environmentResponseSchema = z.strictObject({ environment: environmentSchema });
