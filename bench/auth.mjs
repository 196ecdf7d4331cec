// Benchmark: the cost of the Scheduler's authentication, on a SQLite state store and the service
// on 127.0.0.1:
// - token issue over HTTP: POST /oauth/token with HTTP Basic, `concurrency` requests in flight
//   (the slow secret hash dominates; the rate limit is raised so that it does not interfere);
// - token signing alone: `issueAccessToken` in process, no secret check;
// - token verification: `TokenVerifier.verify` in process (signature, claims, revocation list),
//   of tokens seen for the first time, and of one token used again (the verifier remembers
//   tokens it verified and then checks only expiry, key and revocation);
// - added latency per request: GET /v1/whoami (a valid token checked, nothing else done) with one
//   token used again and with a token the service has not seen each time, against GET /healthz
//   (public, nothing checked), one request at a time and `concurrency` at a time, the three
//   taking turns in blocks so that all see the same machine.
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
  const whoami = bearerRequest(token);
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
    for (const [key, concurrency] of [
      ['serial', 1],
      ['parallel', CONCURRENCY],
    ]) {
      const unseen = (await signMany(inProcess, requests)).map(bearerRequest);
      const variants = {
        public: () => healthz,
        sameToken: () => whoami,
        newToken: () => unseen.pop(),
      };
      rounds[key].push(await latencies(call, variants, requests, concurrency));
    }
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

/** `GET /v1/whoami` with `token`. */
function bearerRequest(token) {
  return { method: 'GET', path: '/v1/whoami', headers: { authorization: `Bearer ${token}` } };
}

/** `count` tokens the service has not seen, signed with its keys before any timing starts. */
async function signMany(inProcess, count) {
  const tokens = [];
  for (let index = 0; index < count; index++) tokens.push((await inProcess.sign()).access_token);
  return tokens;
}

/** Operations per second of `count` calls of `work`, `concurrency` at a time. */
async function rate(count, concurrency, work) {
  const started = performance.now();
  await inParallel(count, concurrency, work);
  return count / ((performance.now() - started) / 1000);
}

/**
 * Median and 99th percentile latency of each variant's requests; the variants take turns in
 * blocks of 100 so that each sees the same machine.
 */
async function latencies(call, variants, count, concurrency) {
  const times = Object.fromEntries(Object.keys(variants).map((name) => [name, []]));
  for (let done = 0; done < count; done += 100) {
    const block = Math.min(100, count - done);
    for (const [name, next] of Object.entries(variants)) {
      await inParallel(block, concurrency, async () => {
        const options = next();
        const started = performance.now();
        const response = await call(options);
        if (response.status !== 200) throw new Error(`${options.path} answered ${response.status}`);
        times[name].push(performance.now() - started);
      });
    }
  }
  return Object.fromEntries(
    Object.entries(times).map(([name, values]) => [
      name,
      { medianMs: median(values), p99Ms: percentile(values, 0.99) },
    ]),
  );
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
  const row = (figure, value, unit) => ({ figure, value, unit, ...sizes });
  const latency = (key, variant, field) =>
    round(median(rounds[key].map((figures) => figures[variant][field])), 3);
  const rows = [
    row('token issue over HTTP, Basic auth', round(median(rounds.issue)), 'tokens/s'),
    row('token signing in process', round(median(rounds.sign)), 'tokens/s'),
    row('token verification, first use', round(median(rounds.verifyFirst)), 'tokens/s'),
    row('token verification, used again', round(median(rounds.verifyAgain)), 'tokens/s'),
  ];
  const requests = {
    public: 'GET /healthz (no token)',
    sameToken: 'GET /v1/whoami, one token',
    newToken: 'GET /v1/whoami, a new token each time',
  };
  for (const [key, label] of [
    ['serial', 'one at a time'],
    ['parallel', `${CONCURRENCY} at a time`],
  ]) {
    for (const [variant, name] of Object.entries(requests)) {
      rows.push(row(`${name}, ${label}`, latency(key, variant, 'medianMs'), 'ms median'));
      rows.push(row(`${name}, ${label}`, latency(key, variant, 'p99Ms'), 'ms p99'));
    }
  }
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const isSmall = process.argv[2] === '--small';
  const requests = isSmall ? 200 : Number(process.argv[2] ?? 5000);
  const repeat = isSmall ? 1 : Number(process.argv[3] ?? 5);
  console.table(await benchAuth({ requests, repeat }));
}
