import { z } from 'zod';

/**
 * The body of every error the Scheduler's API returns outside the OAuth token endpoint (which
 * answers in RFC 6749's own format, see `oauth.ts`). `field` names the offending request field,
 * as a path such as `body.roles[0]`, when one is to blame.
 */
export const apiErrorSchema = z.strictObject({
  error: z.strictObject({
    code: z.string(),
    message: z.string(),
    field: z.string().optional(),
  }),
});

export type ApiError = z.infer<typeof apiErrorSchema>;
