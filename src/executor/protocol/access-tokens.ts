import { SluiceError } from '../../core/errors.js';
import { oauthErrorSchema, tokenResponseSchema } from '../../protocol/oauth.js';
import { basicCredentials } from '../../protocol/scheduler-address.js';
import { answerError, exchangeError, parseJson } from './answer-errors.js';
import type { HttpAnswer, HttpTransport } from './http-transport.js';

/**
 * The Executor's access tokens, by OAuth 2.0 client credentials sent with HTTP Basic. A token is
 * kept until shortly before it expires; the credentials are asked for each time a token is
 * fetched, so a secret rotated at runtime (a re-read env file) is picked up at the next renewal.
 * Neither the secret nor a token ever goes into a message or a log.
 */

/** An OAuth client's id and secret. */
export type ClientCredentials = { readonly clientId: string; readonly clientSecret: string };

/** Gives the current credentials; called before each token request. */
export type CredentialsSource = () => ClientCredentials | Promise<ClientCredentials>;

/** What fetching tokens needs. */
export type AccessTokenOptions = {
  readonly tokenUrl: URL;
  /** The Scheduler's address for messages. */
  readonly displayUrl: string;
  readonly credentials: CredentialsSource;
  readonly transport: HttpTransport;
  readonly timeoutMs: number;
  readonly now: () => number;
};

/** A token is renewed this long before it expires, or halfway through a shorter lifetime. */
const REFRESH_MARGIN_MS = 30_000;

type CachedToken = { readonly accessToken: string; readonly refreshAtMs: number };

/** The cached access token of one client, fetched again when it is due or dropped. */
export class AccessTokens {
  readonly #options: AccessTokenOptions;
  #cached: CachedToken | undefined;
  #pending: Promise<string> | undefined;
  #fetchCount = 0;

  constructor(options: AccessTokenOptions) {
    this.#options = options;
  }

  /** How many tokens were fetched so far. */
  get fetchCount(): number {
    return this.#fetchCount;
  }

  /** A token that is not due for renewal, fetching one when needed (one attempt, no retry). */
  async current(signal?: AbortSignal): Promise<string> {
    const cached = this.#cached;
    if (cached !== undefined && this.#options.now() < cached.refreshAtMs) return cached.accessToken;

    this.#pending ??= this.#fetch(signal).finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  /** Forgets the token, so that the next call fetches a new one. */
  drop(): void {
    this.#cached = undefined;
  }

  async #fetch(signal: AbortSignal | undefined): Promise<string> {
    const { clientId, clientSecret } = await this.#options.credentials();
    const what = 'the token request';
    const answer = await this.#options.transport
      .send({
        method: 'POST',
        url: this.#options.tokenUrl,
        headers: {
          authorization: `Basic ${basicCredentials(clientId, clientSecret)}`,
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body: new URLSearchParams({ grant_type: 'client_credentials' }).toString(),
        timeoutMs: this.#options.timeoutMs,
        ...(signal === undefined ? {} : { signal }),
      })
      .catch((error: unknown) => {
        throw exchangeError(this.#options.displayUrl, what, error);
      });
    if (answer.status !== 200) throw this.#refusal(clientId, answer);

    const token = tokenResponseSchema.safeParse(parseJson(answer.text));
    if (!token.success) {
      throw new SluiceError(
        'internal',
        `The Scheduler at ${this.#options.displayUrl} answered the token request with a body ` +
          "this Executor does not understand; run an Executor of the Scheduler's release",
      );
    }
    this.#remember(token.data.access_token, token.data.expires_in * 1000);
    return token.data.access_token;
  }

  #remember(accessToken: string, lifetimeMs: number): void {
    const marginMs = Math.min(REFRESH_MARGIN_MS, lifetimeMs / 2);
    this.#cached = { accessToken, refreshAtMs: this.#options.now() + lifetimeMs - marginMs };
    this.#fetchCount += 1;
  }

  #refusal(clientId: string, answer: HttpAnswer): SluiceError {
    const said = oauthErrorSchema.safeParse(parseJson(answer.text));
    const isRefused =
      answer.status === 401 || (said.success && said.data.error === 'invalid_client');
    if (!isRefused) {
      return answerError(this.#options.displayUrl, 'the token request', answer);
    }
    const description = said.success ? (said.data.error_description ?? said.data.error) : '';
    return new SluiceError(
      'auth_invalid',
      `The Scheduler at ${this.#options.displayUrl} refused the credentials of client ` +
        `'${clientId}'${description === '' ? '' : `: ${description}`}; check the Executor's ` +
        'client id and secret (SLUICE_CLIENT_ID and SLUICE_CLIENT_SECRET)',
    );
  }
}
