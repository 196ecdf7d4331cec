import { z } from 'zod';

/**
 * The cadence settings of an environment: whether a development environment runs on its models'
 * crons (prod always does), and pausing and resuming the environment or one of its models (with
 * the models downstream of it).
 */

export const environmentSettingsSchema = z.strictObject({
  environment: z.string(),
  /** Whether the cadence runs the environment's models on their crons; always true for prod. */
  is_cadence: z.boolean(),
  is_paused: z.boolean(),
  /** The models paused by name; their downstream models are left out of the cadence too. */
  paused_models: z.array(z.string()),
});

export type EnvironmentSettingsInfo = z.infer<typeof environmentSettingsSchema>;

/** The settings after a change, and whether the request changed anything. */
export const settingsChangeResponseSchema = z.strictObject({
  settings: environmentSettingsSchema,
  changed: z.boolean(),
});

export type SettingsChangeInfo = z.infer<typeof settingsChangeResponseSchema>;

export const environmentSettingsResponseSchema = z.strictObject({
  settings: environmentSettingsSchema,
});

export const cadenceRequestSchema = z.strictObject({ enabled: z.boolean() });

export const modelPathSchema = z.strictObject({
  name: z.string().min(1).max(128),
  model: z.string().min(1).max(512),
});
