import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';

/**
 * The Scheduler's Prometheus metrics, in a registry of its own (not prom-client's global one),
 * so that two services in one process, as in tests, never share or clash over counters.
 */
export type ServiceMetrics = {
  readonly registry: Registry;
  /** Requests answered, by method, route template (never the raw URL) and status. */
  readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  readonly httpRequestDuration: Histogram<'method' | 'route'>;
  readonly tokensIssued: Counter;
  /** Token requests refused, by OAuth error code (`invalid_client`, `rate_limited`, ...). */
  readonly tokenFailures: Counter<'reason'>;
};

/** A fresh registry with the process metrics and the service's own. */
export function createServiceMetrics(): ServiceMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  return {
    registry,
    httpRequests: new Counter({
      name: 'sluice_http_requests_total',
      help: 'HTTP requests answered, by method, route template and status',
      labelNames: ['method', 'route', 'status'],
      registers: [registry],
    }),
    httpRequestDuration: new Histogram({
      name: 'sluice_http_request_duration_seconds',
      help: 'Time from receiving a request to answering it, by method and route template',
      labelNames: ['method', 'route'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    tokensIssued: new Counter({
      name: 'sluice_oauth_tokens_issued_total',
      help: 'Access tokens issued by the token endpoint',
      registers: [registry],
    }),
    tokenFailures: new Counter({
      name: 'sluice_oauth_token_failures_total',
      help: 'Token requests refused, by OAuth error code',
      labelNames: ['reason'],
      registers: [registry],
    }),
  };
}
