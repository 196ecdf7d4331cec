import { type CryptoKey, errors, type JWTPayload, jwtVerify } from 'jose';
import { SluiceError } from '../../core/errors.js';
import { isRole, type Role } from '../../protocol/roles.js';
import type { Principal } from './principal.js';
import type { RevocationList } from './revocation-list.js';
import type { SigningKeys } from './signing-keys.js';

/**
 * Checks access tokens: an EdDSA signature by one of the Scheduler's keys (found by `kid`; no
 * other algorithm, so neither `alg: none` nor an HMAC keyed with a public key gets through),
 * `typ: at+jwt`, this Scheduler's issuer and audience, the time window, the claims RFC 9068
 * requires, known roles, and a client that is not revoked. Failures say why, never quoting the
 * token.
 *
 * A client sends the same token with every call until it expires, so a token that verified is
 * remembered (up to `MAX_REMEMBERED_TOKENS`, oldest forgotten first): its next use checks only
 * what can change, its expiry and whether its signing key is still usable, and not the signature
 * again, which costs about 0.2 ms of CPU with Ed25519 here. The revocation list is consulted on
 * every use.
 */

/** What a token must say to be accepted here. */
export type VerifierSettings = {
  readonly issuer: string;
  readonly audience: string;
  /** Allowed clock difference between replicas for `exp`, `iat` and `nbf`. Default 30. */
  readonly clockToleranceSec?: number;
  readonly clock?: () => Date;
};

/** How many verified tokens are remembered; about 1 KB each. */
export const MAX_REMEMBERED_TOKENS = 10_000;

type RememberedToken = { readonly principal: Principal; readonly kid: string };

const REQUIRED_CLAIMS = ['iss', 'aud', 'sub', 'client_id', 'iat', 'exp', 'jti'];

const HOW_TO_FIX = 'request a new token from the token endpoint';

/** Turns bearer tokens into principals. */
export class TokenVerifier {
  readonly #keys: SigningKeys;
  readonly #revocations: RevocationList;
  readonly #settings: VerifierSettings;
  readonly #toleranceSec: number;
  readonly #clock: () => Date;
  readonly #remembered = new Map<string, RememberedToken>();

  constructor(keys: SigningKeys, revocations: RevocationList, settings: VerifierSettings) {
    this.#keys = keys;
    this.#revocations = revocations;
    this.#settings = settings;
    this.#toleranceSec = settings.clockToleranceSec ?? 30;
    this.#clock = settings.clock ?? (() => new Date());
  }

  /**
   * The caller, or SluiceError('auth_invalid') whose message says why without quoting the token.
   */
  async verify(token: string): Promise<Principal> {
    const principal = (await this.#rememberedPrincipal(token)) ?? (await this.#verifyFully(token));

    if (this.#revocations.isRevoked(principal.clientId)) {
      throw invalid(
        `OAuth client '${principal.clientId}' was revoked, so its tokens no longer work`,
      );
    }
    return principal;
  }

  /** The principal of a token verified before, if it has not expired and its key still counts. */
  async #rememberedPrincipal(token: string): Promise<Principal | undefined> {
    const remembered = this.#remembered.get(token);
    if (remembered === undefined) return undefined;

    const nowSec = this.#clock().getTime() / 1000;
    const isCurrent = nowSec <= remembered.principal.expiresAtSec + this.#toleranceSec;
    if (isCurrent && (await this.#keys.publicKeyFor(remembered.kid)) !== undefined) {
      return remembered.principal;
    }
    this.#remembered.delete(token);
    return undefined;
  }

  async #verifyFully(token: string): Promise<Principal> {
    const { payload, kid } = await this.#verifySignedClaims(token);
    const principal = principalOf(payload);

    if (this.#remembered.size >= MAX_REMEMBERED_TOKENS) {
      const oldest = this.#remembered.keys().next();
      if (oldest.done !== true) this.#remembered.delete(oldest.value);
    }
    this.#remembered.set(token, { principal, kid });
    return principal;
  }

  async #verifySignedClaims(token: string): Promise<{ payload: JWTPayload; kid: string }> {
    try {
      const { payload, protectedHeader } = await jwtVerify(
        token,
        (header) => this.#keyFor(header.kid),
        {
          algorithms: ['EdDSA'],
          typ: 'at+jwt',
          issuer: this.#settings.issuer,
          audience: this.#settings.audience,
          clockTolerance: this.#toleranceSec,
          currentDate: this.#clock(),
          requiredClaims: REQUIRED_CLAIMS,
        },
      );
      // The key lookup refused a token without a kid, so one is there.
      return { payload, kid: String(protectedHeader.kid) };
    } catch (error) {
      throw error instanceof SluiceError ? error : invalid(reasonOf(error));
    }
  }

  async #keyFor(kid: string | undefined): Promise<CryptoKey> {
    const key = kid === undefined ? undefined : await this.#keys.publicKeyFor(kid);
    if (key === undefined) {
      throw invalid(
        `The access token was not signed by a current key of this Scheduler; ${HOW_TO_FIX}`,
      );
    }
    return key;
  }
}

function principalOf(payload: JWTPayload): Principal {
  const { sub, jti, exp } = payload;
  const clientId = payload.client_id;
  if (typeof clientId !== 'string' || clientId !== sub) {
    throw invalid(`The access token's client_id claim must equal its sub claim; ${HOW_TO_FIX}`);
  }
  if (typeof jti !== 'string' || jti === '' || typeof exp !== 'number') {
    throw invalid(`The access token's jti or exp claim is not valid; ${HOW_TO_FIX}`);
  }

  return { clientId, roles: rolesOf(payload.roles), tokenId: jti, expiresAtSec: exp };
}

function rolesOf(claim: unknown): Role[] {
  const isValid =
    Array.isArray(claim) && claim.every((role) => typeof role === 'string' && isRole(role));
  if (!isValid) {
    throw invalid(`The access token's roles claim must list known roles; ${HOW_TO_FIX}`);
  }
  return claim as Role[];
}

function reasonOf(error: unknown): string {
  if (error instanceof errors.JWTExpired) return `The access token has expired; ${HOW_TO_FIX}`;
  if (error instanceof errors.JWTClaimValidationFailed) return claimReasonOf(error);
  if (error instanceof errors.JOSEAlgNotAllowed) {
    return `The access token is not signed with EdDSA, the only algorithm accepted; ${HOW_TO_FIX}`;
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return `The access token's signature does not verify; ${HOW_TO_FIX}`;
  }
  return (
    "The access token is not a well-formed signed JWT; send 'Authorization: Bearer' with a " +
    'token from the token endpoint'
  );
}

function claimReasonOf(error: InstanceType<typeof errors.JWTClaimValidationFailed>): string {
  const { claim, reason } = error;
  if (claim === 'typ') return `The access token's typ header is not 'at+jwt'; ${HOW_TO_FIX}`;
  if (claim === 'iss' || claim === 'aud') {
    return (
      `The access token's ${claim} claim does not name this Scheduler; ` +
      `${HOW_TO_FIX} of this Scheduler`
    );
  }
  if (reason === 'missing') return `The access token has no ${claim} claim; ${HOW_TO_FIX}`;
  return `The access token's ${claim} claim is not valid now; ${HOW_TO_FIX}`;
}

/** No cause is attached: jose's errors carry the token's claims, which logs must not repeat. */
function invalid(message: string): SluiceError {
  return new SluiceError('auth_invalid', message);
}
