import type { Role } from '../../protocol/roles.js';

/** Who is calling: the verified claims of an access token. */
export type Principal = {
  /** The OAuth client (the token's `sub` and `client_id`). */
  readonly clientId: string;
  readonly roles: readonly Role[];
  /** The token's `jti`. */
  readonly tokenId: string;
  /** The token's `exp`, in seconds since 1970. */
  readonly expiresAtSec: number;
};
