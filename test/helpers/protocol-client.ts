import { vi } from 'vitest';
import type { Role } from '../../src/protocol/roles.js';
import { createTestClient, requestToken, type TestScheduler } from './scheduler-service.js';

/**
 * A minimal client of the pull protocol for tests: one call per endpoint, each returning the
 * status and the body as JSON (undefined for a 204), so that tests can assert on refusals as
 * well as on answers.
 */

/** What a call answered. */
export type ProtocolAnswer = {
  readonly status: number;
  // biome-ignore lint/suspicious/noExplicitAny: tests read answers of many shapes
  readonly body: any;
};

/** Per-call extras: an abort signal, and headers to add or override. */
export type CallExtras = {
  readonly signal?: AbortSignal;
  readonly headers?: Readonly<Record<string, string>>;
};

/** A protocol client bound to one Scheduler URL and one access token. */
export type ProtocolClient = {
  readonly url: string;
  readonly token: string;
  hello(body: unknown, extras?: CallExtras): Promise<ProtocolAnswer>;
  claim(body: unknown, extras?: CallExtras): Promise<ProtocolAnswer>;
  heartbeat(taskId: string, body: unknown, extras?: CallExtras): Promise<ProtocolAnswer>;
  logs(taskId: string, body: unknown, extras?: CallExtras): Promise<ProtocolAnswer>;
  /** Sends `idempotencyKey` as the Idempotency-Key header, unless it is undefined. */
  complete(
    taskId: string,
    body: unknown,
    idempotencyKey: string | undefined,
    extras?: CallExtras,
  ): Promise<ProtocolAnswer>;
  release(taskId: string, body: unknown, extras?: CallExtras): Promise<ProtocolAnswer>;
};

/** A client for `url` that gets its token from the Scheduler's own /oauth/token. */
export async function connectProtocolClient(
  url: string,
  clientId: string,
  secret: string,
): Promise<ProtocolClient> {
  return protocolClient(url, await requestToken(url, clientId, secret, undefined));
}

/** A client for `url` that calls with `token`. */
export function protocolClient(url: string, token: string): ProtocolClient {
  const post = (path: string, body: unknown, extras: CallExtras = {}) =>
    postJson(url, token, path, body, extras);
  const onTask = (taskId: string, call: string) =>
    `/v1/tasks/${encodeURIComponent(taskId)}/${call}`;

  return {
    url,
    token,
    hello: (body, extras) => post('/v1/executors/hello', body, extras),
    claim: (body, extras) => post('/v1/tasks/claim', body, extras),
    heartbeat: (taskId, body, extras) => post(onTask(taskId, 'heartbeat'), body, extras),
    logs: (taskId, body, extras) => post(onTask(taskId, 'logs'), body, extras),
    complete: (taskId, body, idempotencyKey, extras = {}) =>
      post(onTask(taskId, 'complete'), body, {
        ...extras,
        headers: {
          ...(idempotencyKey === undefined ? {} : { 'idempotency-key': idempotencyKey }),
          ...extras.headers,
        },
      }),
    release: (taskId, body, extras) => post(onTask(taskId, 'release'), body, extras),
  };
}

async function postJson(
  url: string,
  token: string,
  path: string,
  body: unknown,
  extras: CallExtras,
): Promise<ProtocolAnswer> {
  const response = await fetch(new URL(path, url), {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      ...extras.headers,
    },
    body: JSON.stringify(body),
    ...(extras.signal === undefined ? {} : { signal: extras.signal }),
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
}

/** A hello body for `executorId` with `pools`, protocol version 1 and four slots. */
export function helloBody(
  executorId: string,
  pools: readonly string[],
  overrides: Readonly<Record<string, unknown>> = {},
) {
  return {
    executor_id: executorId,
    agent: 'sluice-test/1',
    protocol_versions: [1],
    pools,
    slots: 4,
    ...overrides,
  };
}

/** An Executor that said hello: its protocol client and its ids. */
export type TestExecutor = {
  readonly protocol: ProtocolClient;
  readonly clientId: string;
  readonly executorId: string;
};

/**
 * Creates a client with `roles` in the Scheduler's store, gets it a token over HTTP and says
 * hello as Executor `${clientId}-1` for `pools`; throws if the hello is refused.
 */
export async function startTestExecutor(
  scheduler: TestScheduler,
  clientId: string,
  roles: readonly Role[],
  pools: readonly string[],
): Promise<TestExecutor> {
  const client = await createTestClient(scheduler, clientId, roles);
  const protocol = protocolClient(scheduler.url, client.token);
  const executorId = `${clientId}-1`;
  const hello = await protocol.hello(helloBody(executorId, pools));
  if (hello.status !== 200) {
    throw new Error(`The hello of '${executorId}' was refused: ${hello.status}`);
  }
  return { protocol, clientId, executorId };
}

/** Waits until `logs` holds more lines with message `msg` than `seenBefore`. */
export async function logLineAfter(
  logs: readonly string[],
  msg: string,
  seenBefore: number,
): Promise<void> {
  await vi.waitFor(
    () => {
      if (countLines(logs, msg) <= seenBefore) throw new Error(`no new '${msg}' log line yet`);
    },
    { timeout: 10_000, interval: 10 },
  );
}

/** How many of `logs` (JSON lines) have message `msg`. */
export function countLines(logs: readonly string[], msg: string): number {
  return logs.filter((line) => (JSON.parse(line) as { msg?: string }).msg === msg).length;
}
