import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { BackoffPolicy } from '../../core/backoff.js';
import { SluiceError } from '../../core/errors.js';
import { MAX_POLL_WAIT_SEC } from '../../protocol/tasks-api.js';
import type { StateStore } from '../../state/state-store.js';
import type { CostRates } from '../../state/tasks/attempt-pricing.js';
import type { ConcurrencyCaps } from '../../state/tasks/claim-tasks.js';
import type { RateLimit } from '../auth/rate-limiter.js';
import type { SigningKeyOptions } from '../auth/signing-keys.js';
import {
  type LeaderServiceOptions,
  type LeaderSettings,
  resolveLeaderSettings,
} from '../leader/leader-settings.js';

/** What the caller gives to start the Scheduler's HTTP service. */
export type SchedulerServiceOptions = {
  /** Opened (and migrated) by the caller; closing the service leaves it open. */
  readonly store: StateStore;
  readonly listenHost: string;
  /** 0 lets the system pick a free port (tests). */
  readonly listenPort: number;
  /** Serve HTTPS with this PEM certificate and key; without it, plain HTTP (behind a proxy). */
  readonly tls?: { readonly cert: Buffer; readonly key: Buffer };
  /**
   * The issuer and the base of every published URL; by default `scheme://host:port` of the
   * address actually bound. Set it when clients reach the service by another name (a proxy, a
   * load balancer, or a listener on all interfaces).
   */
  readonly publicUrl?: string;
  /** Behind a proxy: trust X-Forwarded-* for the client address and scheme. */
  readonly trustProxy?: boolean;
  /** Lifetime of the access tokens issued; default 600. */
  readonly tokenTtlSec?: number;
  /** JSON lines; the service adds `component: 'scheduler'`. */
  readonly logger: Logger;
  /** How often revocations made by other replicas are read; default 2000. */
  readonly revocationRefreshMs?: number;
  /** Every token request, per remote address; default 30 at once, one more per second. */
  readonly tokenRateLimit?: RateLimit;
  /** Failed client authentications, per remote address and client id; default 5, one per 5 s. */
  readonly failedAuthRateLimit?: RateLimit;
  /** Largest request body accepted; default 1 MiB. */
  readonly bodyLimitBytes?: number;
  readonly signingKeys?: SigningKeyOptions;
  /** How long a task stays leased after a claim or a heartbeat; default 60. */
  readonly leaseSec?: number;
  /** How often Executors are told to heartbeat each lease; default 15, less than the lease. */
  readonly heartbeatIntervalSec?: number;
  /** How long a claim waits for a task when it does not say; default 25, at most 50. */
  readonly pollWaitSec?: number;
  /** How many attempts a queued task may have; default 3. Read by whoever enqueues tasks. */
  readonly taskMaxAttempts?: number;
  /** Spacing of retries after retryable failures and expired leases; default 1 s to 5 min. */
  readonly retryBackoff?: BackoffPolicy;
  /** How many tasks may be leased at once per gateway and per model; default no cap. */
  readonly concurrencyCaps?: ConcurrencyCaps;
  /** Rates per gateway name that completed attempts are priced with; default none. */
  readonly costRates?: CostRates;
  /** How often expired leases are returned to the queue; default 1000. */
  readonly reapIntervalMs?: number;
  /** The task queue's clock in epoch milliseconds; default `Date.now` (tests pass their own). */
  readonly now?: () => number;
  /** This Scheduler among its replicas: the owner of the runs it coordinates; default random. */
  readonly instanceId?: string;
  /** How often it says its runs are alive and reads their cancellations; default 5000. */
  readonly runHeartbeatMs?: number;
  /** How long a run's Scheduler may stay silent before the run is abandoned; default 30000. */
  readonly runAbandonAfterMs?: number;
  /** How long task log lines are kept; default 7 days. */
  readonly logRetentionMs?: number;
} & LeaderServiceOptions;

/** The same options with every default applied, checked and frozen. */
export type ServiceSettings = {
  readonly listenHost: string;
  readonly listenPort: number;
  readonly tls: { readonly cert: Buffer; readonly key: Buffer } | undefined;
  readonly publicUrl: string | undefined;
  readonly shouldTrustProxy: boolean;
  readonly tokenTtlSec: number;
  readonly revocationRefreshMs: number;
  readonly tokenRateLimit: RateLimit;
  readonly failedAuthRateLimit: RateLimit;
  readonly bodyLimitBytes: number;
  readonly signingKeys: SigningKeyOptions;
  readonly leaseSec: number;
  readonly heartbeatIntervalSec: number;
  readonly pollWaitSec: number;
  readonly taskMaxAttempts: number;
  readonly retryBackoff: BackoffPolicy;
  readonly concurrencyCaps: ConcurrencyCaps;
  readonly costRates: CostRates;
  readonly reapIntervalMs: number;
  readonly now: () => number;
  readonly instanceId: string;
  readonly runHeartbeatMs: number;
  readonly runAbandonAfterMs: number;
  readonly logRetentionMs: number;
} & LeaderSettings;

/** A running service: where it answers, the Fastify app (for inspection), and how to stop it. */
export type RunningScheduler = {
  /** The public URL: the issuer and base of every published URL, without a trailing slash. */
  readonly url: string;
  /** Where the service listens, `scheme://address:port`; the public URL unless one was given. */
  readonly listenUrl: string;
  readonly app: FastifyInstance;
  /** Stops accepting connections, lets requests in flight finish, stops the background timers. */
  close(): Promise<void>;
};

export const DEFAULT_TOKEN_TTL_SEC = 600;
export const DEFAULT_REVOCATION_REFRESH_MS = 2000;
export const DEFAULT_TOKEN_RATE_LIMIT: RateLimit = { capacity: 30, refillPerSec: 1 };
export const DEFAULT_FAILED_AUTH_RATE_LIMIT: RateLimit = { capacity: 5, refillPerSec: 0.2 };
export const DEFAULT_BODY_LIMIT_BYTES = 1024 * 1024;
export const DEFAULT_LEASE_SEC = 60;
export const DEFAULT_HEARTBEAT_INTERVAL_SEC = 15;
export const DEFAULT_POLL_WAIT_SEC = 25;
export const DEFAULT_TASK_MAX_ATTEMPTS = 3;
export const DEFAULT_RETRY_BACKOFF: BackoffPolicy = { baseDelayMs: 1_000, maxDelayMs: 300_000 };
export const DEFAULT_REAP_INTERVAL_MS = 1_000;
export const DEFAULT_RUN_HEARTBEAT_MS = 5_000;
export const DEFAULT_RUN_ABANDON_AFTER_MS = 30_000;
export const DEFAULT_LOG_RETENTION_MS = 7 * 24 * 3_600_000;

/** Applies the defaults and checks the values, so that a bad option fails at startup. */
export function resolveServiceSettings(options: SchedulerServiceOptions): ServiceSettings {
  const settings: ServiceSettings = {
    listenHost: options.listenHost,
    listenPort: options.listenPort,
    tls: options.tls,
    publicUrl: options.publicUrl === undefined ? undefined : checkPublicUrl(options.publicUrl),
    shouldTrustProxy: options.trustProxy ?? false,
    tokenTtlSec: options.tokenTtlSec ?? DEFAULT_TOKEN_TTL_SEC,
    revocationRefreshMs: options.revocationRefreshMs ?? DEFAULT_REVOCATION_REFRESH_MS,
    tokenRateLimit: options.tokenRateLimit ?? DEFAULT_TOKEN_RATE_LIMIT,
    failedAuthRateLimit: options.failedAuthRateLimit ?? DEFAULT_FAILED_AUTH_RATE_LIMIT,
    bodyLimitBytes: options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES,
    signingKeys: options.signingKeys ?? {},
    costRates: options.costRates ?? new Map(),
    ...taskQueueSettings(options),
    instanceId: options.instanceId ?? `${hostname()}/${process.pid}/${randomUUID().slice(0, 8)}`,
    runHeartbeatMs: options.runHeartbeatMs ?? runHeartbeatMsOf(options.runAbandonAfterMs),
    runAbandonAfterMs: options.runAbandonAfterMs ?? DEFAULT_RUN_ABANDON_AFTER_MS,
    logRetentionMs: options.logRetentionMs ?? DEFAULT_LOG_RETENTION_MS,
    ...resolveLeaderSettings(options),
  };

  checkInteger('listen port', settings.listenPort, 0, 65535);
  checkInteger('token lifetime in seconds', settings.tokenTtlSec, 1, 24 * 3600);
  checkInteger('revocation refresh interval in ms', settings.revocationRefreshMs, 1, 60_000);
  checkInteger('body limit in bytes', settings.bodyLimitBytes, 1, 64 * 1024 * 1024);
  checkTaskQueueSettings(settings);
  checkInteger('run heartbeat interval in ms', settings.runHeartbeatMs, 1, 600_000);
  checkInteger('task log retention in ms', settings.logRetentionMs, 60_000, 3650 * 86_400_000);
  checkInteger(
    'silence in ms before a run is abandoned',
    settings.runAbandonAfterMs,
    settings.runHeartbeatMs + 1,
    24 * 3_600_000,
  );
  return Object.freeze(settings);
}

type TaskQueueSettings = Pick<
  ServiceSettings,
  | 'leaseSec'
  | 'heartbeatIntervalSec'
  | 'pollWaitSec'
  | 'taskMaxAttempts'
  | 'retryBackoff'
  | 'concurrencyCaps'
  | 'reapIntervalMs'
  | 'now'
>;

function taskQueueSettings(options: SchedulerServiceOptions): TaskQueueSettings {
  return {
    leaseSec: options.leaseSec ?? DEFAULT_LEASE_SEC,
    heartbeatIntervalSec: options.heartbeatIntervalSec ?? DEFAULT_HEARTBEAT_INTERVAL_SEC,
    pollWaitSec: options.pollWaitSec ?? DEFAULT_POLL_WAIT_SEC,
    taskMaxAttempts: options.taskMaxAttempts ?? DEFAULT_TASK_MAX_ATTEMPTS,
    retryBackoff: options.retryBackoff ?? DEFAULT_RETRY_BACKOFF,
    concurrencyCaps: options.concurrencyCaps ?? {},
    reapIntervalMs: options.reapIntervalMs ?? DEFAULT_REAP_INTERVAL_MS,
    now: options.now ?? Date.now,
  };
}

function checkTaskQueueSettings(settings: TaskQueueSettings): void {
  checkInteger('lease length in seconds', settings.leaseSec, 2, 3600);
  checkInteger(
    'heartbeat interval in seconds',
    settings.heartbeatIntervalSec,
    1,
    settings.leaseSec - 1,
  );
  checkInteger('poll wait in seconds', settings.pollWaitSec, 0, MAX_POLL_WAIT_SEC);
  checkInteger('maximum attempts of a task', settings.taskMaxAttempts, 1, 100);
  checkInteger('retry base delay in ms', settings.retryBackoff.baseDelayMs, 1, 3_600_000);
  checkInteger(
    'retry maximum delay in ms',
    settings.retryBackoff.maxDelayMs,
    settings.retryBackoff.baseDelayMs,
    24 * 3_600_000,
  );
  checkInteger('reap interval in ms', settings.reapIntervalMs, 1, 60_000);
  const caps = settings.concurrencyCaps;
  const limits = [caps.defaultPerGateway, caps.perModel, ...Object.values(caps.perGateway ?? {})];
  for (const limit of limits) {
    if (limit !== undefined) checkInteger('concurrency cap', limit, 1, 100_000);
  }
}

/** Runs say they are alive three times within the silence that abandons them, at most every 5 s. */
function runHeartbeatMsOf(abandonAfterMs: number | undefined): number {
  if (abandonAfterMs === undefined) return DEFAULT_RUN_HEARTBEAT_MS;
  return Math.max(1, Math.min(DEFAULT_RUN_HEARTBEAT_MS, Math.floor(abandonAfterMs / 3)));
}

/** The public URL without a trailing slash; only http and https, with no query or fragment. */
export function checkPublicUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw usage(`The public URL '${text}' is not a URL; write it as https://host[:port][/path]`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw usage(`The public URL '${text}' must start with https:// (or http:// for tests)`);
  }
  if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    throw usage(
      `The public URL '${url.origin}' must have no query, fragment or credentials; ` +
        'write it as https://host[:port][/path]',
    );
  }
  return url.href.replace(/\/+$/, '');
}

function checkInteger(what: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw usage(`The ${what} must be a whole number from ${min} to ${max}, not ${value}`);
  }
}

function usage(message: string): SluiceError {
  return new SluiceError('usage', message);
}
