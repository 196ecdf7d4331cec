import { z } from 'zod';
import { roleSchema } from './roles.js';

/**
 * The OAuth client administration API (admins only): create a client, list clients, rotate a
 * client's secret, revoke a client. A secret appears once, in the answer that created it.
 */

/** Client ids are names people type: lower case, digits, `.`, `_` and `-`, up to 64 characters. */
export const CLIENT_ID_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;

export const clientIdSchema = z.string().regex(CLIENT_ID_PATTERN, {
  message: 'must be 1-64 characters of a-z, 0-9, ".", "_" or "-", starting with a letter or digit',
});

export const clientSecretInfoSchema = z.strictObject({
  id: z.string(),
  created_at: z.string(),
  /** When a secret replaced by rotation stops working; null while it is the newest. */
  expires_at: z.string().nullable(),
});

export const clientSchema = z.strictObject({
  client_id: z.string(),
  roles: z.array(roleSchema),
  created_at: z.string(),
  revoked_at: z.string().nullable(),
  secrets: z.array(clientSecretInfoSchema),
});

export type ClientInfo = z.infer<typeof clientSchema>;

export const createClientRequestSchema = z.strictObject({
  client_id: clientIdSchema,
  roles: z.array(roleSchema).min(1),
});

export type CreateClientRequest = z.infer<typeof createClientRequestSchema>;

export const clientWithSecretSchema = z.strictObject({
  client: clientSchema,
  client_secret: z.string(),
});

export type ClientWithSecret = z.infer<typeof clientWithSecretSchema>;

export const listClientsResponseSchema = z.strictObject({ clients: z.array(clientSchema) });

export const rotateSecretRequestSchema = z.strictObject({
  /** How long the previous secret keeps working; 0 ends it now. Default: one day. */
  grace_sec: z
    .number()
    .int()
    .min(0)
    .max(30 * 24 * 3600)
    .optional(),
});

export const clientPathSchema = z.strictObject({ client_id: clientIdSchema });

export const revokeClientResponseSchema = z.strictObject({ client: clientSchema });
