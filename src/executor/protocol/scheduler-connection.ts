import { readFile } from 'node:fs/promises';
import type { z } from 'zod';
import type { BackoffPolicy } from '../../core/backoff.js';
import { SluiceError } from '../../core/errors.js';
import { type Logger, SILENT_LOGGER } from '../../core/logger.js';
import { checkSchedulerUrl } from '../../protocol/scheduler-address.js';
import {
  type CompleteRequest,
  type CompleteResponse,
  completeHeadersSchema,
  completeRequestSchema,
  completeResponseSchema,
  IDEMPOTENCY_KEY_HEADER,
} from '../../protocol/task-completion-api.js';
import {
  type ClaimedTaskInfo,
  type ClaimRequest,
  claimRequestSchema,
  claimResponseSchema,
  type HeartbeatResponse,
  type HelloRequest,
  type HelloResponse,
  heartbeatResponseSchema,
  helloRequestSchema,
  helloResponseSchema,
  type LogsRequest,
  leaseCallRequestSchema,
  logsRequestSchema,
  logsResponseSchema,
  MAX_POLL_WAIT_SEC,
  PROTOCOL_VERSIONS,
  releaseResponseSchema,
} from '../../protocol/tasks-api.js';
import { AccessTokens, type CredentialsSource } from './access-tokens.js';
import { answerError, exchangeError, parseJson } from './answer-errors.js';
import { type HttpAnswer, HttpTransport } from './http-transport.js';
import { type ProxySettings, proxySettingsFromEnv } from './proxy-settings.js';
import { retryUntilAnswered } from './retry-loop.js';

/**
 * The Executor's client of the pull protocol (DESIGN.md section 6) over HTTP: hello, the long-poll
 * claim, heartbeats, numbered log batches, the idempotent completion and the release. Every
 * request and answer is checked against the schemas of src/protocol. Every call runs in a retry
 * loop: network failures, timeouts, 408, 429 and 5xx are tried again with capped exponential
 * backoff and jitter for as long as it takes (so the client resumes by itself once a Scheduler
 * that was down is back), while any other refusal is final and thrown as a SluiceError whose code
 * says what happened (`lease_lost` for 409, `protocol_unsupported` for 426, ...). A 401 drops the
 * access token and fetches a new one, once per attempt.
 */

/** Where the Scheduler is and how to reach it. */
export type SchedulerConnectionOptions = {
  /** The Scheduler's base URL (SLUICE_URL); https unless the host is this machine. */
  readonly url: string;
  readonly credentials: CredentialsSource;
  /** PEM certificates trusted besides the system CAs (the text of SLUICE_CA_FILE). */
  readonly extraCa?: string;
  /** The proxies to use; by default those of HTTPS_PROXY, HTTP_PROXY and NO_PROXY. */
  readonly proxy?: ProxySettings;
  /** Spacing of retries; default 0.5 s doubling up to 30 s. */
  readonly retry?: BackoffPolicy;
  /** How long one exchange may take, a claim's wait not counted; default 30 s. */
  readonly requestTimeoutMs?: number;
  readonly logger?: Logger;
  /** The clock that decides when a token is renewed; default `Date.now`. */
  readonly now?: () => number;
};

/** The default spacing of retries. */
export const DEFAULT_RETRY_POLICY: BackoffPolicy = { baseDelayMs: 500, maxDelayMs: 30_000 };

const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/** One call: its name for messages, where it goes, and the schemas of its body and answer. */
type Call<T> = {
  readonly what: string;
  readonly path: string;
  readonly body: unknown;
  readonly requestSchema: z.ZodType;
  readonly answerSchema: z.ZodType<T>;
  /** What a 204 means, for calls that may answer without a body. */
  readonly noContent?: T;
  readonly headers?: Readonly<Record<string, string>>;
  readonly timeoutMs?: number;
  readonly signal: AbortSignal | undefined;
};

/** The pull protocol as one Executor's OAuth client sees it. */
export class SchedulerConnection {
  /** The base URL, ending in `/`. */
  readonly baseUrl: URL;
  readonly #transport: HttpTransport;
  readonly #tokens: AccessTokens;
  readonly #retry: BackoffPolicy;
  readonly #timeoutMs: number;
  readonly #logger: Logger;

  constructor(options: SchedulerConnectionOptions) {
    this.baseUrl = checkSchedulerUrl(options.url);
    this.#transport = new HttpTransport({
      proxy: options.proxy ?? proxySettingsFromEnv(process.env),
      ...(options.extraCa === undefined ? {} : { extraCa: options.extraCa }),
    });
    this.#retry = options.retry ?? DEFAULT_RETRY_POLICY;
    this.#timeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.#logger = (options.logger ?? SILENT_LOGGER).child({ component: 'scheduler-connection' });
    this.#tokens = new AccessTokens({
      tokenUrl: this.#urlOf('/oauth/token'),
      displayUrl: this.displayUrl,
      credentials: options.credentials,
      transport: this.#transport,
      timeoutMs: this.#timeoutMs,
      now: options.now ?? Date.now,
    });
  }

  /** The base URL for messages. */
  get displayUrl(): string {
    return this.baseUrl.href.replace(/\/$/, '');
  }

  /** How many access tokens were fetched so far. */
  get tokenFetchCount(): number {
    return this.#tokens.fetchCount;
  }

  /** Says hello with the protocol versions this Executor speaks; 426 is `protocol_unsupported`. */
  async hello(
    request: Omit<HelloRequest, 'protocol_versions'>,
    signal?: AbortSignal,
  ): Promise<HelloResponse> {
    const answer = await this.#retried({
      what: 'the hello',
      path: '/v1/executors/hello',
      body: { ...request, protocol_versions: [...PROTOCOL_VERSIONS] },
      requestSchema: helloRequestSchema,
      answerSchema: helloResponseSchema,
      signal,
    });
    if (!PROTOCOL_VERSIONS.includes(answer.protocol_version)) {
      throw new SluiceError(
        'protocol_unsupported',
        `The Scheduler at ${this.displayUrl} chose protocol version ${answer.protocol_version}, ` +
          `which this Executor does not speak; run an Executor of the Scheduler's release`,
      );
    }
    return answer;
  }

  /** Waits up to `wait_sec` for ready tasks and leases them; none when the wait ran out. */
  async claim(request: ClaimRequest, signal?: AbortSignal): Promise<ClaimedTaskInfo[]> {
    const waitSec = request.wait_sec ?? MAX_POLL_WAIT_SEC;
    const answer = await this.#retried({
      what: 'the claim',
      path: '/v1/tasks/claim',
      body: request,
      requestSchema: claimRequestSchema,
      answerSchema: claimResponseSchema,
      noContent: { tasks: [] },
      timeoutMs: this.#timeoutMs + waitSec * 1000,
      signal,
    });
    return answer.tasks;
  }

  /** Renews a lease; `lease_lost` when the task is no longer this Executor's. */
  heartbeat(taskId: string, epoch: number, signal?: AbortSignal): Promise<HeartbeatResponse> {
    return this.#retried({
      what: `the heartbeat of task '${taskId}'`,
      path: taskPath(taskId, 'heartbeat'),
      body: { epoch },
      requestSchema: leaseCallRequestSchema,
      answerSchema: heartbeatResponseSchema,
      signal,
    });
  }

  /** Sends a numbered batch of log lines; a batch sent again is stored once. */
  sendLogs(
    taskId: string,
    request: LogsRequest,
    signal?: AbortSignal,
  ): Promise<{ duplicate: boolean }> {
    return this.#retried({
      what: `log batch ${request.seq} of task '${taskId}'`,
      path: taskPath(taskId, 'logs'),
      body: request,
      requestSchema: logsRequestSchema,
      answerSchema: logsResponseSchema,
      signal,
    });
  }

  /**
   * Reports the outcome of an attempt, sending the same `idempotencyKey` on every retry until
   * the Scheduler answers, so that a completion whose answer was lost is not counted twice.
   */
  complete(
    taskId: string,
    request: CompleteRequest,
    idempotencyKey: string,
    signal?: AbortSignal,
  ): Promise<CompleteResponse> {
    if (!completeHeadersSchema.safeParse({ [IDEMPOTENCY_KEY_HEADER]: idempotencyKey }).success) {
      throw new SluiceError(
        'internal',
        `The idempotency key of the completion of task '${taskId}' is not 1-200 printable ` +
          'ASCII characters; this is a bug in Sluice',
      );
    }
    return this.#retried({
      what: `the completion of task '${taskId}'`,
      path: taskPath(taskId, 'complete'),
      body: request,
      requestSchema: completeRequestSchema,
      answerSchema: completeResponseSchema,
      headers: { [IDEMPOTENCY_KEY_HEADER]: idempotencyKey },
      signal,
    });
  }

  /** Gives a claimed task back without spending an attempt. */
  async release(taskId: string, epoch: number, signal?: AbortSignal): Promise<void> {
    await this.#retried({
      what: `the release of task '${taskId}'`,
      path: taskPath(taskId, 'release'),
      body: { epoch },
      requestSchema: leaseCallRequestSchema,
      answerSchema: releaseResponseSchema,
      signal,
    });
  }

  /** Closes idle connections; calls in flight finish. */
  close(): void {
    this.#transport.close();
  }

  async #retried<T>(call: Call<T>): Promise<T> {
    checkRequest(call);
    let failures = 0;
    const answer = await retryUntilAnswered(() => this.#attempt(call), {
      policy: this.#retry,
      ...(call.signal === undefined ? {} : { signal: call.signal }),
      onRetry: (error, attempt, delayMs) => {
        failures = attempt;
        const fields = { call: call.what, attempt, delayMs, code: error.code };
        if (attempt === 1) this.#logger.warn({ ...fields, reason: error.message }, 'call failed');
        else this.#logger.debug(fields, 'call failed again');
      },
    });
    if (failures > 0) this.#logger.info({ call: call.what, failures }, 'call answered');
    return answer;
  }

  /** One attempt: a token, the exchange, and once more with a new token after a 401. */
  async #attempt<T>(call: Call<T>): Promise<T> {
    let answer = await this.#send(call, await this.#tokens.current(call.signal));
    if (answer.status === 401) {
      this.#tokens.drop();
      answer = await this.#send(call, await this.#tokens.current(call.signal));
    }
    if (answer.status === 204 && call.noContent !== undefined) return call.noContent;
    if (answer.status !== 200) throw answerError(this.displayUrl, call.what, answer);

    const parsed = call.answerSchema.safeParse(parseJson(answer.text));
    if (parsed.success) return parsed.data;
    throw new SluiceError(
      'internal',
      `The Scheduler at ${this.displayUrl} answered ${call.what} with a body this Executor does ` +
        `not understand${fieldOf(parsed.error)}; run an Executor of the Scheduler's release`,
    );
  }

  async #send(call: Call<unknown>, accessToken: string): Promise<HttpAnswer> {
    try {
      return await this.#transport.send({
        method: 'POST',
        url: this.#urlOf(call.path),
        headers: {
          authorization: `Bearer ${accessToken}`,
          'content-type': 'application/json',
          accept: 'application/json',
          ...call.headers,
        },
        body: JSON.stringify(call.body),
        timeoutMs: call.timeoutMs ?? this.#timeoutMs,
        ...(call.signal === undefined ? {} : { signal: call.signal }),
      });
    } catch (error) {
      call.signal?.throwIfAborted();
      throw exchangeError(this.displayUrl, call.what, error);
    }
  }

  #urlOf(path: string): URL {
    return new URL(path.replace(/^\//, ''), this.baseUrl);
  }
}

/** Reads a PEM bundle of extra CAs (SLUICE_CA_FILE), with a message that names the file. */
export async function readCaBundle(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new SluiceError(
      'config_invalid',
      `Could not read the CA bundle '${path}' (${String(code ?? 'unreadable')}); point ` +
        'SLUICE_CA_FILE at a readable PEM file',
    );
  }
}

function taskPath(taskId: string, call: string): string {
  return `/v1/tasks/${encodeURIComponent(taskId)}/${call}`;
}

/** Refuses a request that breaks its own schema: a bug here, never worth a retry. */
function checkRequest(call: Call<unknown>): void {
  const parsed = call.requestSchema.safeParse(call.body);
  if (parsed.success) return;
  throw new SluiceError(
    'internal',
    `The Executor built ${call.what} wrongly${fieldOf(parsed.error)}; this is a bug in Sluice`,
  );
}

function fieldOf(error: z.ZodError): string {
  const issue = error.issues[0];
  return issue === undefined || issue.path.length === 0 ? '' : ` (${issue.path.join('.')})`;
}
