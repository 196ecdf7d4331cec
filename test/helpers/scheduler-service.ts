import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import type { Role } from '../../src/protocol/roles.js';
import { bootstrapAdminClient, createClient } from '../../src/scheduler/auth/client-registry.js';
import { startSchedulerService } from '../../src/scheduler/http/scheduler-service.js';
import type { SchedulerServiceOptions } from '../../src/scheduler/http/service-options.js';
import { openStateStore } from '../../src/state/open-state-store.js';
import type { StateStore } from '../../src/state/state-store.js';
import {
  type StateBackendUnderTest,
  type TestStateLocation,
  testKeyRing,
  testStateKey,
} from './state-backends.js';

/** A Scheduler service on loopback over a fresh state store, with an admin client. */
export type TestScheduler = {
  /** Where the service listens, such as `http://127.0.0.1:41234`; fetch this. */
  readonly url: string;
  /** The issuer of its tokens: `url` unless the options gave a public URL. */
  readonly publicUrl: string;
  readonly store: StateStore;
  /** The service's Fastify app, to inspect its routes. */
  readonly app: FastifyInstance;
  readonly admin: { readonly clientId: string; readonly secret: string };
  /** Every JSON log line the service wrote, debug included. */
  readonly logs: string[];
  /** An access token obtained through POST /oauth/token with HTTP Basic; throws on refusal. */
  tokenFor(clientId: string, secret: string, scope?: string): Promise<string>;
  /** Stops the service; closes and removes the store unless it is shared with another. */
  close(): Promise<void>;
};

/** The id of the admin client every test Scheduler starts with. */
export const TEST_ADMIN_CLIENT_ID = 'admin';

/**
 * Starts a Scheduler on 127.0.0.1 at a free port, over a new store of `backend`, with a short
 * revocation refresh. Given `sharing`, it runs as a second replica on that Scheduler's store
 * and admin client instead, and leaves the store to it.
 */
export async function startTestScheduler(
  backend: StateBackendUnderTest,
  options: Partial<SchedulerServiceOptions> = {},
  sharing?: TestScheduler,
): Promise<TestScheduler> {
  const owned = sharing === undefined ? await openOwnStore(backend) : undefined;
  const store = sharing?.store ?? owned?.store;
  if (store === undefined) throw new Error('no state store to run the Scheduler on');

  try {
    const admin = sharing?.admin ?? (await bootstrapAdmin(store));
    const logs: string[] = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => logs.push(line.trim()) });
    const service = await startSchedulerService({
      store,
      listenHost: '127.0.0.1',
      listenPort: 0,
      logger,
      revocationRefreshMs: 200,
      ...options,
    });

    return {
      url: service.listenUrl,
      publicUrl: service.url,
      store,
      app: service.app,
      admin,
      logs,
      tokenFor: (clientId, secret, scope) =>
        requestToken(service.listenUrl, clientId, secret, scope),
      close: async () => {
        await service.close();
        await owned?.close();
      },
    };
  } catch (error) {
    await owned?.close();
    throw error;
  }
}

async function openOwnStore(backend: StateBackendUnderTest) {
  const location: TestStateLocation = await backend.create();
  const store = await openStateStore({
    location: location.location,
    keyRing: testKeyRing(testStateKey('k1')),
    shouldMigrate: true,
  });
  return {
    store,
    close: async () => {
      await store.close();
      await location.cleanup();
    },
  };
}

async function bootstrapAdmin(store: StateStore) {
  const issued = await bootstrapAdminClient(store, {
    clientId: TEST_ADMIN_CLIENT_ID,
    actor: 'test-setup',
  });
  return { clientId: issued.client.client_id, secret: issued.secret };
}

/** An access token from `url`'s POST /oauth/token, by HTTP Basic; throws on refusal. */
export async function requestToken(
  url: string,
  clientId: string,
  secret: string,
  scope: string | undefined,
): Promise<string> {
  const credentials = `${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`;
  const form = new URLSearchParams({ grant_type: 'client_credentials' });
  if (scope !== undefined) form.set('scope', scope);

  const response = await fetch(new URL('/oauth/token', url), {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(credentials).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: form.toString(),
  });
  const body = (await response.json()) as { access_token?: string; error?: string };
  if (response.status !== 200 || body.access_token === undefined) {
    throw new Error(
      `The token request for '${clientId}' was refused: ${response.status} ${body.error}`,
    );
  }
  return body.access_token;
}

/** A client made directly in the store, with its secret and a fresh access token. */
export type TestClient = {
  readonly clientId: string;
  readonly secret: string;
  readonly token: string;
};

/** Creates a client with `roles` in the Scheduler's store and gets it a token over HTTP. */
export async function createTestClient(
  scheduler: Pick<TestScheduler, 'store' | 'tokenFor'>,
  clientId: string,
  roles: readonly Role[],
): Promise<TestClient> {
  const issued = await createClient(scheduler.store, { clientId, roles, actor: 'test-setup' });
  const token = await scheduler.tokenFor(clientId, issued.secret);
  return { clientId, secret: issued.secret, token };
}

/** An answer of the API: status, headers and the body as JSON (undefined when it is not). */
export type ApiAnswer = {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  // biome-ignore lint/suspicious/noExplicitAny: tests read answers of many shapes
  readonly json: any;
};

/** What `callApi` sends: a bearer token, a JSON body (or raw text with its type), headers. */
export type ApiCall = {
  readonly method?: string;
  readonly token?: string;
  readonly json?: unknown;
  readonly body?: string;
  readonly headers?: Readonly<Record<string, string>>;
};

/** Calls the service over HTTP. */
export async function callApi(
  scheduler: Pick<TestScheduler, 'url'>,
  path: string,
  call: ApiCall = {},
): Promise<ApiAnswer> {
  const headers: Record<string, string> = { ...call.headers };
  if (call.token !== undefined) headers.authorization = `Bearer ${call.token}`;
  if (call.json !== undefined) headers['content-type'] ??= 'application/json';

  const response = await fetch(new URL(path, scheduler.url), {
    method: call.method ?? (call.json === undefined && call.body === undefined ? 'GET' : 'POST'),
    headers,
    ...(call.json !== undefined ? { body: JSON.stringify(call.json) } : {}),
    ...(call.body !== undefined ? { body: call.body } : {}),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, json: parseJson(text) };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
