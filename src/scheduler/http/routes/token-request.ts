import { z } from 'zod';
import { type ErrorCode, SluiceError } from '../../../core/errors.js';
import { type OAuthErrorCode, tokenRequestSchema } from '../../../protocol/oauth.js';
import { isRole, ROLES, type Role } from '../../../protocol/roles.js';

/**
 * Reading a client credentials token request (RFC 6749 sections 2.3.1, 4.4.2 and 5.2): the form
 * fields, the client's credentials by HTTP Basic or in the body (never both), and the roles the
 * optional `scope` asks for. Every refusal is an OAuthProblem carrying its RFC 6749 error code.
 */

/** A refused token request: its HTTP status, RFC 6749 error code and headers. */
export class OAuthProblem extends SluiceError {
  readonly statusCode: number;
  readonly oauthCode: OAuthErrorCode | 'rate_limited';
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    statusCode: number,
    oauthCode: OAuthErrorCode | 'rate_limited',
    description: string,
    headers: Readonly<Record<string, string>> = {},
  ) {
    super(codeOf(oauthCode), description);
    this.statusCode = statusCode;
    this.oauthCode = oauthCode;
    this.headers = headers;
  }
}

/** What a well-formed token request asks for. */
export type TokenRequest = {
  readonly clientId: string;
  readonly clientSecret: string;
  /** The roles asked for by `scope`, or undefined for all of the client's roles. */
  readonly scope: readonly string[] | undefined;
};

/** The challenge RFC 6749 section 5.2 asks for with `invalid_client`. */
export const BASIC_CHALLENGE = { 'www-authenticate': 'Basic realm="sluice"' } as const;

// RFC 6749 section 3.2 says unrecognised parameters are ignored, so the known ones are picked
// out and the rest dropped: here, unlike the JSON API, an unknown field is not an error. All are
// optional at this point so that a missing one gets its RFC 6749 error below.
const knownFieldsSchema = z.object(tokenRequestSchema.shape).partial();
const KNOWN_FIELDS: ReadonlySet<string> = new Set(Object.keys(tokenRequestSchema.shape));

/** Reads a token request from its form body and Authorization header. */
export function parseTokenRequest(
  body: string | undefined,
  authorization: string | undefined,
): TokenRequest {
  const fields = readForm(body ?? '');
  if (fields.grant_type === undefined || fields.grant_type === '') {
    throw invalidRequest(
      "The token request needs grant_type; send 'grant_type=client_credentials'",
    );
  }
  if (fields.grant_type !== 'client_credentials') {
    throw new OAuthProblem(
      400,
      'unsupported_grant_type',
      "This Scheduler issues tokens for the grant type 'client_credentials' only",
    );
  }

  const credentials = credentialsOf(fields, authorization);
  const scopeText = fields.scope?.trim() ?? '';
  const scope = scopeText === '' ? undefined : scopeText.split(/ +/);
  return { ...credentials, scope };
}

/**
 * The roles a token carries: all of the client's, or those `scope` asks for, which must be among
 * them (`invalid_scope` otherwise, naming what the client may ask for).
 */
export function grantedRoles(scope: readonly string[] | undefined, held: readonly Role[]): Role[] {
  if (scope === undefined) return [...held];

  // Only role names are repeated back: the scope is caller text and may hold anything.
  const unknown = scope.filter((name) => !isRole(name));
  if (unknown.length > 0) {
    throw invalidScope(
      `The scope names ${unknown.length} unknown role(s); roles are: ${ROLES.join(' ')}`,
    );
  }
  const notHeld = scope.filter((name) => !held.includes(name as Role));
  if (notHeld.length > 0) {
    throw invalidScope(
      `The scope asks for ${notHeld.map((name) => `'${name}'`).join(', ')}, which this client ` +
        `does not hold; ask for some of: ${held.join(' ')}`,
    );
  }
  return [...new Set(scope)].filter(isRole);
}

function invalidScope(description: string): OAuthProblem {
  return new OAuthProblem(400, 'invalid_scope', description);
}

type TokenFields = z.infer<typeof knownFieldsSchema>;

function readForm(body: string): TokenFields {
  const params = new URLSearchParams(body);
  const seen = new Set<string>();
  for (const name of params.keys()) {
    if (seen.has(name) && KNOWN_FIELDS.has(name)) {
      throw invalidRequest(`The parameter '${name}' appears more than once; send it once`);
    }
    seen.add(name);
  }

  const known = Object.fromEntries([...params].filter(([name]) => KNOWN_FIELDS.has(name)));
  return knownFieldsSchema.parse(known);
}

function credentialsOf(
  fields: TokenFields,
  authorization: string | undefined,
): Pick<TokenRequest, 'clientId' | 'clientSecret'> {
  const basic = basicCredentials(authorization);
  const hasBodyCredentials = fields.client_id !== undefined || fields.client_secret !== undefined;
  if (basic !== undefined && hasBodyCredentials) {
    throw invalidRequest(
      'The token request carries client credentials twice; send them either by HTTP Basic or ' +
        'as client_id and client_secret in the body, not both',
    );
  }
  if (basic !== undefined) return basic;

  if (fields.client_id === undefined || fields.client_secret === undefined) {
    throw invalidClient(
      'The token request carries no client credentials; send them by HTTP Basic, or as ' +
        'client_id and client_secret in the body',
    );
  }
  return { clientId: fields.client_id, clientSecret: fields.client_secret };
}

/** HTTP Basic credentials: each part form-urlencoded, then joined by ':' and base64 encoded. */
function basicCredentials(
  header: string | undefined,
): Pick<TokenRequest, 'clientId' | 'clientSecret'> | undefined {
  if (header === undefined) return undefined;
  const match = /^Basic +([A-Za-z0-9+/=]+) *$/i.exec(header);
  if (match?.[1] === undefined) {
    if (/^Basic\b/i.test(header)) throw malformedBasic();
    return undefined;
  }

  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 1) throw malformedBasic();
  try {
    return {
      clientId: formDecode(decoded.slice(0, colon)),
      clientSecret: formDecode(decoded.slice(colon + 1)),
    };
  } catch {
    throw malformedBasic();
  }
}

function formDecode(text: string): string {
  return decodeURIComponent(text.replaceAll('+', ' '));
}

function malformedBasic(): OAuthProblem {
  return invalidClient(
    'The HTTP Basic credentials are malformed; send base64 of the form-encoded client id, ' +
      "':' and the form-encoded secret",
  );
}

function invalidRequest(description: string): OAuthProblem {
  return new OAuthProblem(400, 'invalid_request', description);
}

/** A refused client authentication: 401 with the Basic challenge. */
export function invalidClient(description: string): OAuthProblem {
  return new OAuthProblem(401, 'invalid_client', description, BASIC_CHALLENGE);
}

function codeOf(oauthCode: OAuthErrorCode | 'rate_limited'): ErrorCode {
  if (oauthCode === 'rate_limited') return 'rate_limited';
  return oauthCode === 'invalid_client' ? 'auth_invalid' : 'request_invalid';
}
