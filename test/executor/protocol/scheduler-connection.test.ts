import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import {
  NO_PROXY_SETTINGS,
  proxyFor,
  proxySettingsFromEnv,
} from '../../../src/executor/protocol/proxy-settings.js';
import { SchedulerConnection } from '../../../src/executor/protocol/scheduler-connection.js';
import { createClient, rotateClientSecret } from '../../../src/scheduler/auth/client-registry.js';
import { enqueueTasks } from '../../../src/state/tasks/enqueue-tasks.js';
import { startTestScheduler, type TestScheduler } from '../../helpers/scheduler-service.js';
import { stateBackendsUnderTest } from '../../helpers/state-backends.js';
import { queuedTask } from '../../state/tasks/queue-fixture.js';
import { startTestProxy, type TestProxy } from './test-proxy.js';

/** The protocol client against a real Scheduler over HTTP(S) on loopback, and a real proxy. */

const sqlite = stateBackendsUnderTest().find((backend) => backend.name === 'sqlite');
if (sqlite === undefined) throw new Error('no SQLite backend');
const HELLO = {
  executor_id: 'runner-1',
  agent: 'sluice-test/1',
  pools: ['run' as const],
  slots: 2,
};
const FAST_RETRY = { baseDelayMs: 20, maxDelayMs: 100 };

describe('the Scheduler connection', () => {
  let scheduler: TestScheduler | undefined;
  let proxy: TestProxy | undefined;
  const connections: SchedulerConnection[] = [];

  afterEach(async () => {
    for (const connection of connections.splice(0)) connection.close();
    await scheduler?.close();
    await proxy?.close();
    scheduler = undefined;
    proxy = undefined;
  });

  async function runner(
    service: TestScheduler,
    options: { now?: () => number; proxy?: string } = {},
  ) {
    const issued = await createClient(service.store, {
      clientId: 'runner',
      roles: ['executor:run'],
      actor: 'test-setup',
    });
    const credentials = { clientId: 'runner', clientSecret: issued.secret };
    const connection = new SchedulerConnection({
      url: service.url,
      credentials: () => credentials,
      proxy:
        options.proxy === undefined
          ? NO_PROXY_SETTINGS
          : proxySettingsFromEnv({ HTTP_PROXY: options.proxy }),
      retry: FAST_RETRY,
      ...(options.now === undefined ? {} : { now: options.now }),
    });
    connections.push(connection);
    return { connection, credentials };
  }

  it('renews its token before it expires, with a secret rotated meanwhile', async () => {
    scheduler = await startTestScheduler(sqlite);
    let nowMs = Date.now();
    const { connection, credentials } = await runner(scheduler, { now: () => nowMs });
    await connection.hello(HELLO);
    await connection.hello(HELLO);
    expect(connection.tokenFetchCount).toBe(1);

    const rotated = await rotateClientSecret(scheduler.store, {
      clientId: 'runner',
      graceSec: 0,
      actor: 'test-setup',
    });
    Object.assign(credentials, { clientSecret: rotated.secret });
    nowMs += 600_000;

    expect((await connection.hello(HELLO)).protocol_version).toBe(1);
    expect(connection.tokenFetchCount).toBe(2);
  });

  it('drops a refused token and fetches a new one, once', async () => {
    scheduler = await startTestScheduler(sqlite);
    let hellos = 0;
    proxy = await startTestProxy((request) => {
      if (!request.target.endsWith('/v1/executors/hello')) return { action: 'forward' };
      hellos += 1;
      const body = { error: { code: 'auth_invalid', message: 'The token expired' } };
      return hellos === 1 ? { action: 'answer', status: 401, body } : { action: 'forward' };
    });
    const { connection } = await runner(scheduler, { proxy: proxy.url });

    expect((await connection.hello(HELLO)).executor_id).toBe('runner-1');
    expect(connection.tokenFetchCount).toBe(2);
    expect(hellos).toBe(2);
  });

  it('retries a 503 until answered, and takes a 426 as final', async () => {
    scheduler = await startTestScheduler(sqlite);
    let hellos = 0;
    proxy = await startTestProxy((request) => {
      if (!request.target.endsWith('/v1/executors/hello')) return { action: 'forward' };
      hellos += 1;
      if (hellos <= 2) return { action: 'answer', status: 503, body: {} };
      if (hellos === 4) {
        const message =
          'This Scheduler speaks protocol version 2 and the Executor offered version 1';
        return {
          action: 'answer',
          status: 426,
          body: { error: { code: 'protocol_unsupported', message } },
        };
      }
      return { action: 'forward' };
    });
    const { connection } = await runner(scheduler, { proxy: proxy.url });

    await connection.hello(HELLO);
    expect(hellos).toBe(3);
    const refusal = connection.hello(HELLO);
    await expect(refusal).rejects.toMatchObject({ code: 'protocol_unsupported', retryable: false });
    await expect(refusal).rejects.toThrow('speaks protocol version 2');
    expect(hellos).toBe(4);
  });

  it('says a heartbeat of an earlier lease lost its lease', async () => {
    scheduler = await startTestScheduler(sqlite);
    const { connection } = await runner(scheduler);
    await connection.hello(HELLO);
    await enqueueTasks(scheduler.store, [queuedTask('t1')], Date.now());
    const claim = { executor_id: 'runner-1', max_tasks: 1, wait_sec: 0 };
    const [first] = await connection.claim(claim);
    if (first === undefined) throw new Error('no task claimed');

    await connection.release('t1', first.epoch);
    const [second] = await connection.claim(claim);

    expect(second?.epoch).toBeGreaterThan(first.epoch);
    await expect(connection.heartbeat('t1', first.epoch)).rejects.toMatchObject({
      code: 'lease_lost',
    });
    expect(await connection.claim({ ...claim, wait_sec: 0 })).toEqual([]);
  });

  it('refuses plain HTTP to a Scheduler that is not on this machine', () => {
    expect(
      () =>
        new SchedulerConnection({
          url: 'http://scheduler.example.com',
          credentials: () => ({ clientId: 'runner', clientSecret: 'unused' }),
        }),
    ).toThrow('use https://');
  });

  it('reaches an HTTPS Scheduler through a CONNECT proxy, trusting an extra CA', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'sluice-tls-'));
    try {
      const cert = join(folder, 'cert.pem');
      const key = join(folder, 'key.pem');
      await promisify(execFile)('/usr/bin/openssl', [
        ...['req', '-x509', '-newkey', 'ed25519', '-nodes', '-days', '1'],
        ...['-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'],
        ...['-keyout', key, '-out', cert],
      ]);
      const tls = { cert: await readFile(cert), key: await readFile(key) };
      scheduler = await startTestScheduler(sqlite, { tls });
      proxy = await startTestProxy();
      const issued = await createClient(scheduler.store, {
        clientId: 'runner',
        roles: ['executor:run'],
        actor: 'test-setup',
      });
      const options = {
        url: scheduler.url,
        credentials: () => ({ clientId: 'runner', clientSecret: issued.secret }),
        proxy: proxySettingsFromEnv({ HTTPS_PROXY: proxy.url }),
        retry: FAST_RETRY,
      };
      const trusting = new SchedulerConnection({ ...options, extraCa: tls.cert.toString() });
      const distrusting = new SchedulerConnection(options);
      connections.push(trusting, distrusting);

      expect((await trusting.hello(HELLO)).executor_id).toBe('runner-1');
      const target = new URL(scheduler.url).host;
      expect(proxy.seen.map((request) => `${request.method} ${request.target}`)).toEqual([
        `CONNECT ${target}`,
        `CONNECT ${target}`,
      ]);
      await expect(distrusting.hello(HELLO)).rejects.toThrow('SLUICE_CA_FILE');
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });

  it('goes around the proxy for the hosts NO_PROXY names', () => {
    const settings = proxySettingsFromEnv({
      HTTPS_PROXY: 'http://proxy.internal:3128',
      NO_PROXY: 'localhost, .corp.example, 127.0.0.1:8443',
    });
    const via = (url: string) => proxyFor(new URL(url), settings)?.host;

    expect(via('https://scheduler.example.com')).toBe('proxy.internal:3128');
    expect(via('https://sluice.corp.example')).toBeUndefined();
    expect(via('https://localhost:8443')).toBeUndefined();
    expect(via('https://127.0.0.1:8443')).toBeUndefined();
    expect(via('https://127.0.0.1:9443')).toBe('proxy.internal:3128');
    expect(via('http://scheduler.example.com')).toBeUndefined();
  });
});
