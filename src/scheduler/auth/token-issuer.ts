import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import { SluiceError } from '../../core/errors.js';
import type { TokenResponse } from '../../protocol/oauth.js';
import type { Role } from '../../protocol/roles.js';
import type { SigningKeys } from './signing-keys.js';

/**
 * Access tokens in the JWT profile of RFC 9068: header `typ: at+jwt` and the active key's `kid`;
 * claims `iss`, `aud`, `sub` and `client_id` (the client, since a client credentials token acts
 * for no user), `iat`, `exp`, a random `jti`, and the client's `roles` (RFC 9068 section 7.2.1)
 * with the same roles as the space-separated `scope`.
 */

/** Who issues tokens for whom, and how long they live. */
export type TokenSettings = {
  readonly issuer: string;
  readonly audience: string;
  /** Token lifetime; 600 (ten minutes) is the Scheduler's default. */
  readonly ttlSec: number;
};

/** The default token lifetime: ten minutes. */
export const DEFAULT_TOKEN_TTL_SEC = 600;

/** Signs an access token for an authenticated client. */
export async function issueAccessToken(
  keys: SigningKeys,
  settings: TokenSettings,
  client: { clientId: string; roles: readonly Role[] },
  now: Date = new Date(),
): Promise<TokenResponse> {
  if (!Number.isInteger(settings.ttlSec) || settings.ttlSec < 1) {
    throw new SluiceError(
      'usage',
      'The access token lifetime must be a positive whole number of seconds; ' +
        `got ${settings.ttlSec}`,
    );
  }

  const { kid, key } = await keys.signingKey();
  const issuedAtSec = Math.floor(now.getTime() / 1000);
  const scope = client.roles.join(' ');
  const token = await new SignJWT({ client_id: client.clientId, roles: [...client.roles], scope })
    .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid })
    .setIssuer(settings.issuer)
    .setAudience(settings.audience)
    .setSubject(client.clientId)
    .setIssuedAt(issuedAtSec)
    .setExpirationTime(issuedAtSec + settings.ttlSec)
    .setJti(randomBytes(16).toString('base64url'))
    .sign(key);

  return { access_token: token, token_type: 'Bearer', expires_in: settings.ttlSec, scope };
}
