import type { z } from 'zod';
import { type ErrorCode, SluiceError } from '../core/errors.js';
import { NETWORK_REASONS } from '../core/network-reasons.js';
import { apiErrorSchema } from '../protocol/api-error.js';
import { oauthErrorSchema, tokenResponseSchema } from '../protocol/oauth.js';
import { basicCredentials, checkSchedulerUrl } from '../protocol/scheduler-address.js';

export {
  basicCredentials,
  checkSchedulerUrl,
  isLoopbackHost,
} from '../protocol/scheduler-address.js';

/**
 * The CLI's HTTP client of the Scheduler API. It gets an access token by OAuth 2.0 client
 * credentials (HTTP Basic, RFC 6749 section 2.3.1), keeps it until shortly before it expires, and
 * turns every failure into a SluiceError carrying the server's message. Neither the secret nor a
 * token ever goes into a message. Plain `http://` is refused except to this machine, so that
 * credentials never cross a network unencrypted; TLS uses the system CAs plus NODE_EXTRA_CA_CERTS.
 */

/** Where the Scheduler is and which OAuth client calls it. */
export type ApiClientOptions = {
  /** The Scheduler's base URL, such as `https://scheduler.example.com` (SLUICE_URL). */
  readonly url: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** How long one HTTP exchange may take (default 30 s). */
  readonly timeoutMs?: number;
  readonly now?: () => number;
};

/** One API call: method, path under the base URL, query, JSON body and the answer's schema. */
export type ApiRequest<T> = {
  readonly method: 'GET' | 'POST';
  /** Such as `/v1/clients`; path segments from user input must be URI-encoded by the caller. */
  readonly path: string;
  readonly query?: Readonly<Record<string, string | number | undefined>>;
  readonly body?: unknown;
  readonly schema: z.ZodType<T>;
};

type CachedToken = { readonly accessToken: string; readonly refreshAtMs: number };

const DEFAULT_TIMEOUT_MS = 30_000;

/** A token is renewed this long before it expires, or halfway through a shorter lifetime. */
const TOKEN_REFRESH_MARGIN_MS = 30_000;

/** API error codes kept as they are; any other maps from the HTTP status. */
const KNOWN_CODES: ReadonlySet<string> = new Set<ErrorCode>([
  'request_invalid',
  'auth_invalid',
  'auth_forbidden',
  'rate_limited',
  'client_exists',
  'client_not_found',
  'audit_chain_broken',
  'plan_stale',
  'plan_locked',
  'usage',
]);

/** The Scheduler API as one OAuth client sees it. */
export class SchedulerApiClient {
  /** The base URL, ending in `/`, without credentials, query or fragment. */
  readonly baseUrl: URL;
  readonly clientId: string;
  readonly #clientSecret: string;
  readonly #timeoutMs: number;
  readonly #now: () => number;
  #token: CachedToken | undefined;

  constructor(options: ApiClientOptions) {
    this.baseUrl = checkSchedulerUrl(options.url);
    this.clientId = options.clientId;
    this.#clientSecret = options.clientSecret;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#now = options.now ?? Date.now;
  }

  /** The base URL for messages. */
  get displayUrl(): string {
    return this.baseUrl.href.replace(/\/$/, '');
  }

  /** Calls the API with a bearer token, renewing the token once if the Scheduler refuses it. */
  async call<T>(request: ApiRequest<T>): Promise<T> {
    const wasCached = this.#cachedToken() !== undefined;
    let response = await this.#send(request, await this.#accessToken());
    if (response.status === 401 && wasCached) {
      // The token may have been signed by a key the Scheduler has since retired: try a new one.
      this.#token = undefined;
      response = await this.#send(request, await this.#accessToken());
    }
    if (!response.ok) throw await this.#apiError(request, response);
    return this.#parse(request, response);
  }

  async #send(request: ApiRequest<unknown>, accessToken: string): Promise<Response> {
    const url = this.#urlOf(request.path);
    for (const [name, value] of Object.entries(request.query ?? {})) {
      if (value !== undefined) url.searchParams.set(name, String(value));
    }
    const hasBody = request.method === 'POST';
    return this.#fetch(`${request.method} ${request.path}`, url, {
      method: request.method,
      headers: {
        authorization: `Bearer ${accessToken}`,
        accept: 'application/json',
        ...(hasBody ? { 'content-type': 'application/json' } : {}),
      },
      ...(hasBody ? { body: JSON.stringify(request.body ?? {}) } : {}),
    });
  }

  #cachedToken(): string | undefined {
    const cached = this.#token;
    return cached !== undefined && this.#now() < cached.refreshAtMs
      ? cached.accessToken
      : undefined;
  }

  async #accessToken(): Promise<string> {
    const cached = this.#cachedToken();
    if (cached !== undefined) return cached;

    const response = await this.#fetch('the token request', this.#urlOf('/oauth/token'), {
      method: 'POST',
      headers: {
        authorization: `Basic ${basicCredentials(this.clientId, this.#clientSecret)}`,
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
      },
      body: new URLSearchParams({ grant_type: 'client_credentials' }).toString(),
    });
    if (!response.ok) throw await this.#tokenError(response);

    const token = await this.#parse(
      { method: 'POST', path: '/oauth/token', schema: tokenResponseSchema },
      response,
    );
    const lifetimeMs = token.expires_in * 1000;
    const marginMs = Math.min(TOKEN_REFRESH_MARGIN_MS, lifetimeMs / 2);
    this.#token = {
      accessToken: token.access_token,
      refreshAtMs: this.#now() + lifetimeMs - marginMs,
    };
    return token.access_token;
  }

  #urlOf(path: string): URL {
    return new URL(path.replace(/^\//, ''), this.baseUrl);
  }

  /** Fetches without following redirects, so that credentials go only where SLUICE_URL says. */
  async #fetch(what: string, url: URL, init: RequestInit): Promise<Response> {
    let response: Response;
    try {
      response = await fetch(url, {
        ...init,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (error) {
      throw new SluiceError(
        'state_unreachable',
        `Cannot reach the Scheduler at ${this.displayUrl} (${what}): ` +
          `${networkReason(error, this.#timeoutMs)}; check SLUICE_URL and that the Scheduler runs`,
        { retryable: true },
      );
    }
    if (response.status >= 300 && response.status < 400) {
      const location = response.headers.get('location') ?? 'another address';
      throw new SluiceError(
        'usage',
        `The Scheduler at ${this.displayUrl} redirects ${what} to ${displayOf(location, url)}; ` +
          'set SLUICE_URL to the address it should be reached at',
      );
    }
    return response;
  }

  async #tokenError(response: Response): Promise<SluiceError> {
    const body = oauthErrorSchema.safeParse(await readJson(response));
    const description = body.success ? (body.data.error_description ?? body.data.error) : '';
    const said = description === '' ? '' : `: ${description}`;
    if (response.status === 429 || (body.success && body.data.error === 'rate_limited')) {
      return rateLimited(this.displayUrl, response, 'token requests');
    }
    if (response.status === 401 || (body.success && body.data.error === 'invalid_client')) {
      return new SluiceError(
        'auth_invalid',
        `The Scheduler at ${this.displayUrl} refused the credentials of client ` +
          `'${this.clientId}'${said} (they come from SLUICE_CLIENT_ID and SLUICE_CLIENT_SECRET)`,
      );
    }
    return unexpectedStatus(this.displayUrl, 'the token request', response, said);
  }

  async #apiError(request: ApiRequest<unknown>, response: Response): Promise<SluiceError> {
    const what = `${request.method} ${request.path}`;
    const body = apiErrorSchema.safeParse(await readJson(response));
    if (response.status === 429) return rateLimited(this.displayUrl, response, 'requests');
    if (!body.success) return unexpectedStatus(this.displayUrl, what, response, '');

    const { code, message } = body.data.error;
    if (response.status === 401) {
      return new SluiceError(
        'auth_invalid',
        `The Scheduler at ${this.displayUrl} refused the access token of client ` +
          `'${this.clientId}': ${message}`,
      );
    }
    return new SluiceError(codeOf(code, response.status), message, {
      retryable: response.status >= 500,
    });
  }

  async #parse<T>(request: ApiRequest<T>, response: Response): Promise<T> {
    const parsed = request.schema.safeParse(await readJson(response));
    if (parsed.success) return parsed.data;
    const issue = parsed.error.issues[0];
    const field =
      issue === undefined || issue.path.length === 0 ? '' : ` (${issue.path.join('.')})`;
    throw new SluiceError(
      'internal',
      `The Scheduler at ${this.displayUrl} answered ${request.method} ${request.path} with a ` +
        `body this CLI does not understand${field}; use a CLI of the Scheduler's release`,
    );
  }
}

function codeOf(code: string, status: number): ErrorCode {
  if (KNOWN_CODES.has(code)) return code as ErrorCode;
  if (status === 400) return 'request_invalid';
  if (status === 403) return 'auth_forbidden';
  if (status >= 500) return 'state_error';
  return 'usage';
}

function rateLimited(displayUrl: string, response: Response, what: string): SluiceError {
  const retryAfter = response.headers.get('retry-after');
  const wait = retryAfter !== null && /^\d+$/.test(retryAfter) ? ` ${retryAfter} s` : ' a while';
  return new SluiceError(
    'rate_limited',
    `The Scheduler at ${displayUrl} is limiting ${what} from this client; ` +
      `wait${wait} and try again`,
    { retryable: true },
  );
}

function unexpectedStatus(
  displayUrl: string,
  what: string,
  response: Response,
  said: string,
): SluiceError {
  const statusText = response.statusText === '' ? '' : ` ${response.statusText}`;
  const status = `HTTP ${response.status}${statusText}`;
  return new SluiceError(
    response.status >= 500 ? 'state_error' : 'request_invalid',
    `The Scheduler at ${displayUrl} answered ${what} with ${status}${said}`,
    { retryable: response.status >= 500 },
  );
}

async function readJson(response: Response): Promise<unknown> {
  try {
    return JSON.parse(await response.text());
  } catch {
    return undefined;
  }
}

/** Why a request failed, in plain words; TLS failures say how to trust a private CA. */
function networkReason(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && error.name === 'TimeoutError') {
    return `it did not answer within ${Math.round(timeoutMs / 1000)} s`;
  }
  const cause = (error as { cause?: { code?: unknown; message?: unknown; errors?: unknown[] } })
    .cause;
  const nested = (cause?.errors?.[0] as { code?: unknown } | undefined)?.code;
  const code = String(cause?.code ?? nested ?? '');
  const known = NETWORK_REASONS[code];
  if (known !== undefined) return known;
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(code)) {
    return (
      `its TLS certificate was not accepted (${code}); if a private CA signed it, name the ` +
      "CA's certificate file in NODE_EXTRA_CA_CERTS"
    );
  }
  if (typeof cause?.message === 'string' && cause.message !== '') return cause.message;
  return error instanceof Error ? error.message : String(error);
}

/** A redirect target for a message: origin and path only. */
function displayOf(location: string, base: URL): string {
  try {
    const url = new URL(location, base);
    return `${url.origin}${url.pathname}`;
  } catch {
    return 'another address';
  }
}
