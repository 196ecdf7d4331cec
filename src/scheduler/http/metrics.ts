import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { TaskPool } from '../../core/task-pool.js';

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
  /** Tasks ready in the queue (claimable now or after a backoff), by pool, read at scrape time. */
  readonly readyTasks: Gauge<'pool'>;
  /** 1 while this replica leads (runs the cadence loop and maintenance), else 0. */
  readonly isLeader: Gauge;
};

/** Reads the queue depth per pool, for the gauge. */
export type ReadyTaskCounter = () => Promise<Readonly<Record<TaskPool, number>>>;

/**
 * A fresh registry with the process metrics and the service's own; `countReadyTasks` is asked
 * at each scrape (a gauge that cannot be read then shows no samples rather than stale ones).
 */
export function createServiceMetrics(countReadyTasks?: ReadyTaskCounter): ServiceMetrics {
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
    readyTasks: readyTasksGauge(registry, countReadyTasks),
    isLeader: isLeaderGauge(registry),
  };
}

function readyTasksGauge(registry: Registry, count: ReadyTaskCounter | undefined): Gauge<'pool'> {
  return new Gauge({
    name: 'sluice_task_queue_ready',
    help: 'Tasks ready in the queue, claimable now or once their backoff ends, by pool',
    labelNames: ['pool'],
    registers: [registry],
    async collect() {
      if (count === undefined) return;
      try {
        const counts = await count();
        for (const [pool, ready] of Object.entries(counts)) this.set({ pool }, ready);
      } catch {
        this.reset();
      }
    },
  });
}

function isLeaderGauge(registry: Registry): Gauge {
  const gauge = new Gauge({
    name: 'sluice_scheduler_is_leader',
    help: 'Whether this Scheduler replica leads (1) or not (0)',
    registers: [registry],
  });
  gauge.set(0);
  return gauge;
}
