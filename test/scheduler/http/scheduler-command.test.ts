import { type ChildProcessWithoutNullStreams, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../helpers/temp-project.js';

/**
 * `sluice scheduler` as a child process (it needs `npm run build`): it logs where it listens,
 * serves HTTP or HTTPS, and stops cleanly on SIGTERM.
 */

const SLUICE = fileURLToPath(new URL('../../../bin/sluice.js', import.meta.url));
const STATE_KEYS = `k1:${randomBytes(32).toString('base64')}`;

type RunningChild = {
  readonly child: ChildProcessWithoutNullStreams;
  readonly lines: Record<string, unknown>[];
  readonly listenUrl: string;
  readonly stderr: () => string;
};

/** Starts the command and waits for its 'listening' log line. */
function startScheduler(folder: string, ...extra: string[]): Promise<RunningChild> {
  const args = [
    SLUICE,
    '--project',
    folder,
    'scheduler',
    '--state',
    `sqlite://${join(folder, 'state.db')}`,
    '--listen',
    '127.0.0.1:0',
    ...extra,
  ];
  const child = spawn(process.execPath, args, {
    env: { ...process.env, SLUICE_STATE_KEYS: STATE_KEYS },
  });
  const lines: Record<string, unknown>[] = [];
  let stderr = '';
  let pending = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });

  return new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      const complete = pending.split('\n');
      pending = complete.pop() ?? '';
      for (const text of complete) {
        const line = JSON.parse(text) as Record<string, unknown>;
        lines.push(line);
        if (line.msg === 'listening') {
          resolve({ child, lines, listenUrl: String(line.listenUrl), stderr: () => stderr });
        }
      }
    });
    child.on('exit', (code) => reject(new Error(`the scheduler exited with ${code}: ${stderr}`)));
  });
}

function exitOf(child: ChildProcessWithoutNullStreams): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.on('exit', (code) => resolve(code)));
}

function httpsGet(url: string, ca: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const outgoing = request(url, { ca }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    outgoing.on('error', reject);
    outgoing.end();
  });
}

describe('sluice scheduler', () => {
  let folder: string;
  let running: RunningChild | undefined;

  beforeEach(async () => {
    folder = await mkdtemp(join(tmpdir(), 'sluice-scheduler-'));
  });

  afterEach(async () => {
    if (running !== undefined && running.child.exitCode === null) {
      running.child.kill('SIGKILL');
      await exitOf(running.child);
    }
    running = undefined;
    await rm(folder, { recursive: true, force: true });
  });

  it('serves on the port it logs, and exits 0 after logging stopped on SIGTERM', async () => {
    running = await startScheduler(folder);
    expect(running.listenUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    const health = await fetch(new URL('/healthz', running.listenUrl));
    expect(health.status).toBe(200);
    const metadata = await fetch(
      new URL('/.well-known/oauth-authorization-server', running.listenUrl),
    );
    expect(((await metadata.json()) as { issuer: string }).issuer).toBe(running.listenUrl);

    running.child.kill('SIGTERM');
    expect(await exitOf(running.child)).toBe(0);
    const messages = running.lines.map((line) => line.msg);
    expect(messages).toEqual(expect.arrayContaining(['listening', 'stopping', 'stopped']));
    expect(messages.indexOf('stopped')).toBeGreaterThan(messages.indexOf('listening'));
    expect(running.lines.every((line) => line.component !== undefined)).toBe(true);
  });

  it('serves HTTPS with the given certificate and key', async () => {
    const cert = join(folder, 'cert.pem');
    const key = join(folder, 'key.pem');
    await promisify(execFile)('/usr/bin/openssl', [
      'req',
      '-x509',
      '-newkey',
      'ed25519',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      key,
      '-out',
      cert,
    ]);

    running = await startScheduler(folder, '--tls-cert', cert, '--tls-key', key);
    expect(running.listenUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);

    const ca = await readFile(cert);
    const answer = await httpsGet(`${running.listenUrl}/.well-known/openid-configuration`, ca);
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body).token_endpoint).toBe(`${running.listenUrl}/oauth/token`);

    running.child.kill('SIGINT');
    expect(await exitOf(running.child)).toBe(0);
  });

  it('refuses a certificate without a key, before opening the state', async () => {
    const result = await runCli('--project', folder, 'scheduler', '--tls-cert', 'cert.pem');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('HTTPS needs both --tls-cert and --tls-key');
  });

  it('names a TLS file it cannot read', async () => {
    const missing = join(folder, 'missing-cert.pem');
    const result = await runCli(
      '--project',
      folder,
      'scheduler',
      '--tls-cert',
      missing,
      '--tls-key',
      missing,
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `Could not read the TLS certificate file '${missing}' (ENOENT)`,
    );
  });

  it('refuses a listen address that is not HOST:PORT', async () => {
    const result = await runCli('--project', folder, 'scheduler', '--listen', 'localhost');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("--listen 'localhost' is not an address to listen on");
  });

  it('refuses a token lifetime out of range', async () => {
    const result = await runCli('--project', folder, 'scheduler', '--token-ttl', '5');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("--token-ttl '5' is not a token lifetime");
  });
});
