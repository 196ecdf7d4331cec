import { z } from 'zod';

/**
 * The OAuth 2.0 messages of the Scheduler: the client credentials token request and response
 * (RFC 6749 sections 4.4 and 5), its errors (section 5.2) and the server metadata (RFC 8414).
 */

/** The token request's form fields; credentials may come in the body or by HTTP Basic. */
export const tokenRequestSchema = z.strictObject({
  grant_type: z.string(),
  scope: z.string().optional(),
  client_id: z.string().optional(),
  client_secret: z.string().optional(),
});

export const tokenResponseSchema = z.strictObject({
  access_token: z.string(),
  token_type: z.literal('Bearer'),
  expires_in: z.number().int().positive(),
  scope: z.string().optional(),
});

export type TokenResponse = z.infer<typeof tokenResponseSchema>;

/** RFC 6749 section 5.2's error codes. */
export const OAUTH_ERROR_CODES = [
  'invalid_request',
  'invalid_client',
  'invalid_grant',
  'unauthorized_client',
  'unsupported_grant_type',
  'invalid_scope',
] as const;

export type OAuthErrorCode = (typeof OAUTH_ERROR_CODES)[number];

export const oauthErrorSchema = z.strictObject({
  error: z.enum([...OAUTH_ERROR_CODES, 'rate_limited']),
  error_description: z.string().optional(),
});

export type OAuthError = z.infer<typeof oauthErrorSchema>;

/** RFC 8414 authorization server metadata, the fields the Scheduler publishes. */
export const serverMetadataSchema = z.strictObject({
  issuer: z.string(),
  token_endpoint: z.string(),
  jwks_uri: z.string(),
  grant_types_supported: z.array(z.string()),
  token_endpoint_auth_methods_supported: z.array(z.string()),
  token_endpoint_auth_signing_alg_values_supported: z.array(z.string()).optional(),
  response_types_supported: z.array(z.string()),
  subject_types_supported: z.array(z.string()).optional(),
  id_token_signing_alg_values_supported: z.array(z.string()).optional(),
  scopes_supported: z.array(z.string()).optional(),
});

export type ServerMetadata = z.infer<typeof serverMetadataSchema>;

/** A JSON Web Key Set of public keys (RFC 7517); private members never appear here. */
export const jwksSchema = z.strictObject({
  keys: z.array(
    z.strictObject({
      kty: z.string(),
      crv: z.string().optional(),
      x: z.string().optional(),
      y: z.string().optional(),
      kid: z.string(),
      alg: z.string(),
      use: z.literal('sig'),
    }),
  ),
});

export type Jwks = z.infer<typeof jwksSchema>;
