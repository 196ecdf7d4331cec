import type { Logger } from 'pino';
import { SluiceError } from '../../core/errors.js';
import type { StateStore } from '../../state/state-store.js';
import type { RevocationList } from '../auth/revocation-list.js';
import type { SigningKeys } from '../auth/signing-keys.js';
import { TokenVerifier } from '../auth/token-verifier.js';
import type { RunService } from '../runs/run-service.js';
import type { ServiceMetrics } from './metrics.js';
import type { ServiceSettings } from './service-options.js';

/** The URLs the service publishes, all under its public URL. */
export type PublicEndpoints = {
  /** The token issuer (`iss`): the public URL exactly. */
  readonly issuer: string;
  /** The tokens' audience (`aud`): the API under `${issuer}/v1`. */
  readonly audience: string;
  readonly tokenEndpoint: string;
  readonly jwksUri: string;
};

/** What every route needs: the state, the keys, the revocations, metrics and the log. */
export type ServiceContext = {
  readonly store: StateStore;
  readonly logger: Logger;
  readonly settings: ServiceSettings;
  readonly keys: SigningKeys;
  readonly revocations: RevocationList;
  readonly metrics: ServiceMetrics;
  /** The runs this Scheduler coordinates: plan applies and runs of environments. */
  readonly runs: RunService;
  /** The published URLs; known once the listener is bound (the port may be chosen then). */
  endpoints(): PublicEndpoints;
  /** The access token verifier for this issuer and audience. */
  verifier(): TokenVerifier;
};

/** The context before the listener is bound, and the call that completes it. */
export type UnboundServiceContext = ServiceContext & { bind(publicUrl: string): PublicEndpoints };

/** Builds the context; `bind` must be called with the public URL before the first request. */
export function createServiceContext(
  parts: Omit<ServiceContext, 'endpoints' | 'verifier'>,
): UnboundServiceContext {
  let bound: { readonly endpoints: PublicEndpoints; readonly verifier: TokenVerifier } | undefined;

  const current = () => {
    if (bound === undefined) {
      throw new SluiceError('state_unreachable', 'The Scheduler is still starting; try again', {
        retryable: true,
      });
    }
    return bound;
  };

  return {
    ...parts,
    endpoints: () => current().endpoints,
    verifier: () => current().verifier,
    bind: (publicUrl) => {
      const endpoints = endpointsOf(publicUrl);
      const verifier = new TokenVerifier(parts.keys, parts.revocations, {
        issuer: endpoints.issuer,
        audience: endpoints.audience,
      });
      bound = { endpoints, verifier };
      return endpoints;
    },
  };
}

/** The published URLs under a public URL given without a trailing slash. */
export function endpointsOf(publicUrl: string): PublicEndpoints {
  return {
    issuer: publicUrl,
    audience: `${publicUrl}/v1`,
    tokenEndpoint: `${publicUrl}/oauth/token`,
    jwksUri: `${publicUrl}/.well-known/jwks.json`,
  };
}
