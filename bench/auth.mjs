// Benchmark: the cost of the Scheduler's authentication. Four figures, on a SQLite state store
// and the service on 127.0.0.1:
// - token issue over HTTP: POST /oauth/token with HTTP Basic, `concurrency` requests in flight
//   (the slow secret hash dominates; the rate limit is raised so that it does not interfere);
// - token signing alone: `issueAccessToken` in process, no secret check;
// - token verification: `TokenVerifier.verify` in process (signature, claims, revocation list),
//   of tokens seen for the first time, and of one token used again (the verifier remembers
//   tokens it verified and then checks only expiry, key and revocation);
// - added latency per request: GET /v1/whoami (a valid token checked, nothing else done) against
//   GET /healthz (public, nothing checked), one request at a time and `concurrency` at a time,
//   the two interleaved in rounds so that both see the same machine.
// Needs `npm run build` first. Usage: node bench/auth.mjs [requests] [repeat] (or --small)
import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import http from 'node:http';
import { join, resolve } from 'node:path';
import { pino } from 'pino';
import { bootstrapAdminClient } from '../dist/scheduler/auth/client-registry.js';
import { RevocationList } from '../dist/scheduler/auth/revocation-list.js';
import { SigningKeys } from '../dist/scheduler/auth/signing-keys.js';
import { issueAccessToken } from '../dist/scheduler/auth/token-issuer.js';
import { TokenVerifier } from '../dist/scheduler/auth/token-verifier.js';
import { startSchedulerService } from '../dist/scheduler/http/scheduler-service.js';
import { openStateStore } from '../dist/state/open-state-store.js';

const OUT = resolve('bench', 'out', 'auth');
const CONCURRENCY = 8;
const UNLIMITED = { capacity: 1_000_000, refillPerSec: 1_000_000 };

const ring = (() => {
  const key = { id: 'bench', secret: randomBytes(32) };
  return { active: key, keys: new Map([[key.id, key]]) };
})();

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function percentile(values, fraction) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))];
}

/** Runs the benchmark; one row per figure, medians of `repeat` rounds. */
export async function benchAuth({ requests, repeat }) {
  await rm(OUT, { recursive: true, force: true });
  await mkdir(OUT, { recursive: true });
  const store = await openStateStore({
    location: { backend: 'sqlite', path: join(OUT, 'state.db') },
    keyRing: ring,
    shouldMigrate: true,
  });
  const service = await startSchedulerService({
    store,
    listenHost: '127.0.0.1',
    listenPort: 0,
    logger: pino({ level: 'silent' }),
    tokenRateLimit: UNLIMITED,
    failedAuthRateLimit: UNLIMITED,
  });
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  try {
    const admin = await bootstrapAdminClient(store, { clientId: 'bench-admin', actor: 'bench' });
    const client = { id: admin.client.client_id, secret: admin.secret };
    return await measure({ store, service, agent, client, requests, repeat });
  } finally {
    agent.destroy();
    await service.close();
    await store.close();
    await rm(OUT, { recursive: true, force: true });
  }
}

async function measure({ store, service, agent, client, requests, repeat }) {
  const call = (options) => request(agent, service.url, options);
  const basic = `Basic ${Buffer.from(`${client.id}:${client.secret}`).toString('base64')}`;
  const tokenRequest = {
    method: 'POST',
    path: '/oauth/token',
    headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials',
  };
  const token = JSON.parse((await call(tokenRequest)).body).access_token;
  const whoami = {
    method: 'GET',
    path: '/v1/whoami',
    headers: { authorization: `Bearer ${token}` },
  };
  const healthz = { method: 'GET', path: '/healthz', headers: {} };

  const tokenIssues = Math.max(8, Math.floor(requests / 50));
  const rounds = {
    issue: [],
    sign: [],
    verifyFirst: [],
    verifyAgain: [],
    serial: [],
    parallel: [],
  };
  const inProcess = await inProcessAuth(store, service.url);
  for (let round = 0; round < repeat; round++) {
    rounds.issue.push(await rate(tokenIssues, CONCURRENCY, () => call(tokenRequest)));
    const fresh = [];
    rounds.sign.push(await rate(requests, 1, async () => fresh.push(await inProcess.sign())));
    const tokens = fresh.map((answer) => answer.access_token);
    rounds.verifyFirst.push(await rate(requests, 1, () => inProcess.verify(tokens.pop())));
    rounds.verifyAgain.push(await rate(requests, 1, () => inProcess.verify(token)));
    rounds.serial.push(await latencyPair(call, healthz, whoami, requests, 1));
    rounds.parallel.push(await latencyPair(call, healthz, whoami, requests, CONCURRENCY));
  }
  inProcess.close();
  return report(rounds, { requests, tokenIssues, repeat });
}

/** Signing and verification in process, with the service's own key store and settings. */
async function inProcessAuth(store, issuer) {
  const keys = await SigningKeys.open(store);
  const revocations = await RevocationList.open(store);
  const settings = { issuer, audience: `${issuer}/v1`, ttlSec: 600 };
  const verifier = new TokenVerifier(keys, revocations, settings);
  const client = { clientId: 'bench-admin', roles: ['admin'] };
  return {
    sign: () => issueAccessToken(keys, settings, client),
    verify: (token) => verifier.verify(token),
    close: () => revocations.close(),
  };
}

/** Operations per second of `count` calls of `work`, `concurrency` at a time. */
async function rate(count, concurrency, work) {
  const started = performance.now();
  await inParallel(count, concurrency, work);
  return count / ((performance.now() - started) / 1000);
}

/** Latencies of the public and the authenticated request, interleaved in blocks of 100. */
async function latencyPair(call, publicRequest, authenticatedRequest, count, concurrency) {
  const latencies = { public: [], authenticated: [] };
  for (let done = 0; done < count; done += 100) {
    const block = Math.min(100, count - done);
    for (const [name, options] of [
      ['public', publicRequest],
      ['authenticated', authenticatedRequest],
    ]) {
      await inParallel(block, concurrency, async () => {
        const started = performance.now();
        const response = await call(options);
        if (response.status !== 200) throw new Error(`${options.path} answered ${response.status}`);
        latencies[name].push(performance.now() - started);
      });
    }
  }
  return {
    publicMs: median(latencies.public),
    authenticatedMs: median(latencies.authenticated),
    publicP99Ms: percentile(latencies.public, 0.99),
    authenticatedP99Ms: percentile(latencies.authenticated, 0.99),
  };
}

async function inParallel(count, concurrency, work) {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next += 1;
      await work();
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}

function request(agent, baseUrl, { method, path, headers, body }) {
  const url = new URL(path, baseUrl);
  return new Promise((resolvePromise, reject) => {
    const outgoing = http.request(url, { method, headers, agent }, (response) => {
      const chunks = [];
      response.on('data', (chunk) => chunks.push(chunk));
      response.on('end', () =>
        resolvePromise({ status: response.statusCode, body: Buffer.concat(chunks).toString() }),
      );
    });
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

function report(rounds, sizes) {
  const round = (value, digits = 0) => Number(value.toFixed(digits));
  const pairs = (key, field) => median(rounds[key].map((pair) => pair[field]));
  const row = (figure, value, unit) => ({ figure, value, unit, ...sizes });
  return [
    row('token issue over HTTP, Basic auth', round(median(rounds.issue)), 'tokens/s'),
    row('token signing in process', round(median(rounds.sign)), 'tokens/s'),
    row('token verification, first use', round(median(rounds.verifyFirst)), 'tokens/s'),
    row('token verification, used again', round(median(rounds.verifyAgain)), 'tokens/s'),
    row('GET /healthz, one at a time', round(pairs('serial', 'publicMs'), 3), 'ms median'),
    row('GET /v1/whoami, one at a time', round(pairs('serial', 'authenticatedMs'), 3), 'ms median'),
    row(
      `GET /healthz, ${CONCURRENCY} at a time`,
      round(pairs('parallel', 'publicMs'), 3),
      'ms median',
    ),
    row(
      `GET /v1/whoami, ${CONCURRENCY} at a time`,
      round(pairs('parallel', 'authenticatedMs'), 3),
      'ms median',
    ),
    row(
      `GET /v1/whoami p99, ${CONCURRENCY} at a time`,
      round(pairs('parallel', 'authenticatedP99Ms'), 3),
      'ms',
    ),
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const isSmall = process.argv[2] === '--small';
  const requests = isSmall ? 200 : Number(process.argv[2] ?? 5000);
  const repeat = isSmall ? 1 : Number(process.argv[3] ?? 5);
  console.table(await benchAuth({ requests, repeat }));
}
