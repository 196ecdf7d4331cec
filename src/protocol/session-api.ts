import { z } from 'zod';
import { roleSchema } from './roles.js';

/** `GET /v1/whoami`: the caller as its access token says, for checking credentials. */
export const whoamiResponseSchema = z.strictObject({
  client_id: z.string(),
  roles: z.array(roleSchema),
  /** When the token expires, ISO 8601 UTC. */
  token_expires_at: z.string(),
});

export type WhoamiResponse = z.infer<typeof whoamiResponseSchema>;
