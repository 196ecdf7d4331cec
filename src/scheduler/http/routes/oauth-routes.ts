import type { FastifyReply, FastifyRequest } from 'fastify';
import { decodeJwt } from 'jose';
import { apiErrorSchema } from '../../../protocol/api-error.js';
import { CLIENT_ID_PATTERN } from '../../../protocol/clients-api.js';
import {
  jwksSchema,
  oauthErrorSchema,
  type ServerMetadata,
  serverMetadataSchema,
  type TokenResponse,
  tokenRequestSchema,
  tokenResponseSchema,
} from '../../../protocol/oauth.js';
import { ROLES } from '../../../protocol/roles.js';
import { authenticateClient } from '../../auth/client-registry.js';
import { RateLimiter } from '../../auth/rate-limiter.js';
import { issueAccessToken } from '../../auth/token-issuer.js';
import { answerFor, sendErrorAnswer } from '../api-errors.js';
import type { SchedulerApp } from '../scheduler-app.js';
import type { ServiceContext } from '../service-context.js';
import { FailedAttempts } from './failed-attempts.js';
import {
  grantedRoles,
  invalidClient,
  OAuthProblem,
  parseTokenRequest,
  type TokenRequest,
} from './token-request.js';

/**
 * The OAuth 2.0 authorization server of the Scheduler: the client credentials token endpoint
 * (RFC 6749 section 4.4), its metadata (RFC 8414, also at the OpenID Connect discovery address
 * that many client libraries try first) and the public signing keys (JWKS). Tokens are issued by
 * the public URL (`iss`) for the API under `${publicUrl}/v1` (`aud`).
 */

declare module 'fastify' {
  interface FastifyRequest {
    /** The client id a token request named, for the log of a refusal. */
    tokenClientId?: string;
  }
}

const FORM = 'application/x-www-form-urlencoded';

/** Registers the token endpoint, the two metadata documents and the JWKS; all public. */
export function registerOAuthRoutes(app: SchedulerApp, context: ServiceContext): void {
  app.register(async (scope) => tokenEndpointScope(scope as SchedulerApp, context));

  for (const url of [
    '/.well-known/oauth-authorization-server',
    '/.well-known/openid-configuration',
  ]) {
    app.get(url, {
      schema: { response: { 200: serverMetadataSchema } },
      config: { access: 'public', summary: 'OAuth 2.0 authorization server metadata (RFC 8414)' },
      handler: async () => serverMetadata(context),
    });
  }

  app.get('/.well-known/jwks.json', {
    schema: { response: { 200: jwksSchema } },
    config: { access: 'public', summary: 'The public keys that sign access tokens' },
    handler: async () => context.keys.jwks(),
  });
}

/** The server metadata; `issuer` is the public URL exactly, as RFC 8414 section 3.3 requires. */
export function serverMetadata(context: ServiceContext): ServerMetadata {
  const endpoints = context.endpoints();
  return {
    issuer: endpoints.issuer,
    token_endpoint: endpoints.tokenEndpoint,
    jwks_uri: endpoints.jwksUri,
    grant_types_supported: ['client_credentials'],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    // RFC 8414 requires response_types_supported even from a server without an authorization
    // endpoint; 'token' is the closest truthful value.
    response_types_supported: ['token'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['EdDSA'],
    scopes_supported: [...ROLES],
  };
}

/**
 * The token endpoint in a scope of its own: it reads forms only, answers errors in RFC 6749's
 * format, and marks every answer uncacheable (section 5.1).
 */
async function tokenEndpointScope(scope: SchedulerApp, context: ServiceContext): Promise<void> {
  const requests = new RateLimiter(context.settings.tokenRateLimit);
  const failures = new FailedAttempts(context.settings.failedAuthRateLimit);

  scope.decorateRequest('tokenClientId', undefined);
  scope.removeAllContentTypeParsers();
  scope.addContentTypeParser(FORM, { parseAs: 'string' }, (_request, body, done) => {
    done(null, body);
  });
  scope.addHook('onSend', async (_request, reply, payload) => {
    reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
    return payload;
  });
  scope.setErrorHandler((error, request, reply) => sendOAuthError(error, request, reply, context));

  scope.post('/oauth/token', {
    schema: {
      response: { 200: tokenResponseSchema, '4xx': oauthErrorSchema, '5xx': apiErrorSchema },
    },
    config: {
      access: 'public',
      summary: 'Issue an access token (OAuth 2.0 client credentials grant)',
      formBody: tokenRequestSchema,
    },
    handler: async (request) => {
      const limited = requests.take(request.ip);
      if (!limited.isAllowed) throw rateLimited(limited.retryAfterSec);

      const tokenRequest = parseTokenRequest(
        typeof request.body === 'string' ? request.body : undefined,
        request.headers.authorization,
      );
      request.tokenClientId = tokenRequest.clientId;
      return issueFor(tokenRequest, request.ip, failures, context);
    },
  });
}

async function issueFor(
  tokenRequest: TokenRequest,
  address: string,
  failures: FailedAttempts,
  context: ServiceContext,
): Promise<TokenResponse> {
  // The id is caller text of any length; one that cannot be a client's shares a bucket, so that
  // neither the number nor the size of the keys kept grows with what callers send.
  const failureKey = `${address} ${loggableClientId(tokenRequest.clientId) ?? '(not a client id)'}`;
  const blocked = failures.check(failureKey);
  if (!blocked.isAllowed) throw rateLimited(blocked.retryAfterSec);

  const { store, keys, settings } = context;
  const client = await authenticateClient(store, tokenRequest.clientId, tokenRequest.clientSecret);
  if (client === undefined) {
    failures.record(failureKey);
    throw invalidClient(
      'The client id or secret is wrong, or the client was revoked; check the credentials',
    );
  }

  const roles = grantedRoles(tokenRequest.scope, client.roles);
  const endpoints = context.endpoints();
  const token = await issueAccessToken(
    keys,
    { issuer: endpoints.issuer, audience: endpoints.audience, ttlSec: settings.tokenTtlSec },
    { clientId: client.client_id, roles },
  );

  context.metrics.tokensIssued.inc();
  context.logger.debug(
    { client_id: client.client_id, jti: decodeJwt(token.access_token).jti, roles },
    'token issued',
  );
  return token;
}

function rateLimited(retryAfterSec: number): OAuthProblem {
  return new OAuthProblem(
    429,
    'rate_limited',
    `Too many token requests; try again in ${retryAfterSec} s`,
    { 'retry-after': String(retryAfterSec) },
  );
}

/** Answers a refused token request in RFC 6749's format; server faults in the API's. */
function sendOAuthError(
  error: unknown,
  request: FastifyRequest,
  reply: FastifyReply,
  context: ServiceContext,
): FastifyReply {
  let problem: OAuthProblem;
  if (error instanceof OAuthProblem) {
    problem = error;
  } else {
    const answer = answerFor(error, {
      bodyLimitBytes: context.settings.bodyLimitBytes,
      mediaType: FORM,
    });
    if (answer.status >= 500) return sendErrorAnswer(answer, request, reply, context.logger);
    // Request errors found before the handler (media type, size, framing) are invalid_request.
    problem = new OAuthProblem(answer.status, 'invalid_request', answer.body.error.message);
  }

  context.metrics.tokenFailures.inc({ reason: problem.oauthCode });
  context.logger.warn(
    { client_id: loggableClientId(request.tokenClientId), reason: problem.oauthCode },
    `token request refused: ${problem.message}`,
  );
  return reply
    .code(problem.statusCode)
    .headers(problem.headers)
    .send({ error: problem.oauthCode, error_description: problem.message });
}

/**
 * A client id fit for the log: one that could be a client's. Anything else is left out, in case
 * a caller pasted a secret into the id field.
 */
function loggableClientId(clientId: string | undefined): string | undefined {
  return clientId !== undefined && CLIENT_ID_PATTERN.test(clientId) ? clientId : undefined;
}
