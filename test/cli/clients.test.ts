import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { ROLES } from '../../src/protocol/roles.js';
import { authenticateClient } from '../../src/scheduler/auth/client-registry.js';
import { readAuditEntries } from '../../src/state/audit-log.js';
import { formatKeyRing } from '../../src/state/crypto/key-ring.js';
import { openStateStore } from '../../src/state/open-state-store.js';
import type { StateStore } from '../../src/state/state-store.js';
import { startTestScheduler, type TestScheduler } from '../helpers/scheduler-service.js';
import {
  stateBackendsUnderTest,
  type TestStateLocation,
  testKeyRing,
  testStateKey,
} from '../helpers/state-backends.js';
import { stateUrlOf } from '../helpers/state-url.js';
import { type CliResult, runCli } from '../helpers/temp-project.js';

/**
 * `sluice clients ...` on the state store itself (no SLUICE_URL) on both backends, and through a
 * real Scheduler on loopback (SLUICE_URL with a client's credentials).
 */

const ring = testKeyRing(testStateKey('k1'));

/** The secret a command printed on its `Client secret:` line. */
function printedSecret(result: CliResult): string {
  const secret = /^Client secret: (\S+)$/m.exec(result.stdout)?.[1];
  if (secret === undefined) throw new Error(`no secret printed:\n${result.stdout}${result.stderr}`);
  return secret;
}

for (const backend of stateBackendsUnderTest()) {
  describe.skipIf(backend.skipReason !== '')(`clients on the ${backend.name} state store`, () => {
    let test: TestStateLocation;
    let projectDir: string;
    let store: StateStore | undefined;

    const cli = (...args: string[]) =>
      runCli('--project', projectDir, ...args, '--state', stateUrlOf(test.location));

    /** The store as the CLI left it, to check secrets with the registry itself. */
    async function openStore(): Promise<StateStore> {
      store ??= await openStateStore({
        location: test.location,
        keyRing: ring,
        shouldMigrate: true,
      });
      return store;
    }

    beforeEach(async () => {
      test = await backend.create();
      projectDir = await mkdtemp(join(tmpdir(), 'sluice-clients-'));
      vi.stubEnv('SLUICE_STATE_KEYS', formatKeyRing(ring));
      vi.stubEnv('SLUICE_URL', '');
    });

    afterEach(async () => {
      vi.unstubAllEnvs();
      await store?.close();
      store = undefined;
      await test.cleanup();
      await rm(projectDir, { recursive: true, force: true });
    });

    it('bootstraps the first admin and prints a secret that authenticates it', async () => {
      const result = await cli('clients', 'bootstrap');

      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/^Client id: +admin$/m);
      expect(result.stdout).toContain('SLUICE_CLIENT_ID and SLUICE_CLIENT_SECRET');
      const client = await authenticateClient(await openStore(), 'admin', printedSecret(result));
      expect(client?.roles).toEqual(['admin']);
    });

    it('prints the bootstrapped client id and secret as JSON when asked', async () => {
      const result = await cli('clients', 'bootstrap', 'root', '--format', 'json');

      expect(result.code).toBe(0);
      const printed = JSON.parse(result.stdout) as { client_id: string; client_secret: string };
      expect(Object.keys(printed).sort()).toEqual(['client_id', 'client_secret']);
      expect(printed.client_id).toBe('root');
      const client = await authenticateClient(await openStore(), 'root', printed.client_secret);
      expect(client?.client_id).toBe('root');
    });

    it('refuses a second bootstrap while an active admin exists', async () => {
      expect((await cli('clients', 'bootstrap')).code).toBe(0);

      const second = await cli('clients', 'bootstrap', 'another');

      expect(second.code).toBe(1);
      expect(second.stderr).toMatch(/admin/);
      expect(second.stdout).not.toContain('Client secret');
      expect(await authenticateClient(await openStore(), 'another', 'anything')).toBeUndefined();
    });

    it('creates a client with its roles and lists it without any secret or hash', async () => {
      const created = await cli(
        'clients',
        'create',
        'ci',
        '--role',
        'deployer',
        '--role',
        'viewer',
      );
      expect(created.code).toBe(0);
      expect(created.stdout).toMatch(/^Roles: +deployer, viewer$/m);
      const secret = printedSecret(created);

      const listed = await cli('clients', 'list');
      const json = await cli('clients', 'list', '--format', 'json');

      expect(listed.code).toBe(0);
      expect(listed.stdout).toMatch(/^ci +deployer,viewer +\S+ +active, 1 secret$/m);
      expect(listed.stdout).not.toContain(secret);
      expect(json.stdout).not.toContain(secret);
      const clients = JSON.parse(json.stdout).clients as Record<string, unknown>[];
      expect(clients.map((client) => client.client_id)).toEqual(['ci']);
      for (const client of clients) {
        for (const stored of client.secrets as Record<string, unknown>[]) {
          expect(Object.keys(stored).sort()).toEqual(['created_at', 'expires_at', 'id']);
        }
      }
      const raw = await (await openStore()).db
        .selectFrom('sluice_oauth_client_secrets')
        .select('hash')
        .execute();
      for (const row of raw) expect(json.stdout).not.toContain(String(row.hash));
    });

    it('rotates a secret: both work during the grace period, then only the new one', async () => {
      const first = printedSecret(await cli('clients', 'create', 'ci', '--role', 'developer'));

      const rotated = await cli('clients', 'rotate-secret', 'ci', '--grace', '2h');

      expect(rotated.code).toBe(0);
      expect(rotated.stdout).toMatch(/The previous secret keeps working until \d{4}-/);
      const second = printedSecret(rotated);
      expect(second).not.toBe(first);
      const store = await openStore();
      expect(await authenticateClient(store, 'ci', first)).toBeDefined();
      expect(await authenticateClient(store, 'ci', second)).toBeDefined();

      const third = await cli('clients', 'rotate-secret', 'ci', '--grace', '0');

      expect(third.stdout).toContain('The previous secret no longer works.');
      expect(await authenticateClient(store, 'ci', second)).toBeUndefined();
      expect(await authenticateClient(store, 'ci', printedSecret(third))).toBeDefined();
    });

    it('revokes a client, after which its secret no longer authenticates', async () => {
      const secret = printedSecret(await cli('clients', 'create', 'ci', '--role', 'viewer'));

      const revoked = await cli('clients', 'revoke', 'ci');

      expect(revoked.code).toBe(0);
      expect(revoked.stdout).toContain("Revoked client 'ci'");
      expect(await authenticateClient(await openStore(), 'ci', secret)).toBeUndefined();
      expect((await cli('clients', 'list')).stdout).toMatch(/^ci +viewer +\S+ +revoked \d{4}-/m);
    });

    it('records each change in the audit log as the local user', async () => {
      await cli('clients', 'create', 'ci', '--role', 'viewer');
      await cli('clients', 'rotate-secret', 'ci');
      await cli('clients', 'revoke', 'ci');

      const entries = await readAuditEntries(await openStore(), { limit: 10 });

      expect(entries.map((entry) => [entry.action, entry.subject])).toEqual([
        ['client.created', 'ci'],
        ['client.secret_rotated', 'ci'],
        ['client.revoked', 'ci'],
      ]);
      const actor = `local:${userInfo().username}`;
      expect(entries.every((entry) => entry.actor === actor)).toBe(true);
    });

    it('refuses an unknown role, naming it and listing the valid ones', async () => {
      const result = await cli('clients', 'create', 'ci', '--role', 'viewer,superuser');

      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`Unknown role 'superuser'; use one of: ${ROLES.join(', ')}`);
      expect(await authenticateClient(await openStore(), 'ci', 'x')).toBeUndefined();
    });

    it('refuses a client without a role', async () => {
      const result = await cli('clients', 'create', 'ci');

      expect(result.code).toBe(1);
      expect(result.stderr).toContain('at least one role with --role');
    });

    it('refuses a client name that is not valid, naming it', async () => {
      const result = await cli('clients', 'create', 'Bad Name!', '--role', 'viewer');

      expect(result.code).toBe(1);
      expect(result.stderr).toContain("Client name 'Bad Name!' is not valid");
    });

    it('refuses a grace period that is not a duration', async () => {
      await cli('clients', 'create', 'ci', '--role', 'viewer');

      const result = await cli('clients', 'rotate-secret', 'ci', '--grace', 'soon');

      expect(result.code).toBe(1);
      expect(result.stderr).toContain("Grace 'soon' is not a duration");
    });

    it('says which client is missing when revoking one that does not exist', async () => {
      const result = await cli('clients', 'revoke', 'ghost');

      expect(result.code).toBe(1);
      expect(result.stderr).toContain("'ghost'");
    });
  });

  describe.skipIf(backend.skipReason !== '')(
    `clients through the Scheduler on ${backend.name}`,
    () => {
      let scheduler: TestScheduler;
      let projectDir: string;

      const cli = (...args: string[]) => runCli('--project', projectDir, ...args);

      function useClient(clientId: string, secret: string) {
        vi.stubEnv('SLUICE_URL', scheduler.url);
        vi.stubEnv('SLUICE_CLIENT_ID', clientId);
        vi.stubEnv('SLUICE_CLIENT_SECRET', secret);
      }

      beforeAll(async () => {
        scheduler = await startTestScheduler(backend);
        projectDir = await mkdtemp(join(tmpdir(), 'sluice-clients-'));
      });

      afterAll(async () => {
        await scheduler?.close();
        await rm(projectDir, { recursive: true, force: true });
      });

      beforeEach(() => useClient(scheduler.admin.clientId, scheduler.admin.secret));
      afterEach(() => vi.unstubAllEnvs());

      it('creates, lists, rotates and revokes clients through the API', async () => {
        const created = await cli('clients', 'create', 'remote-ci', '--role', 'developer');
        expect(created.code).toBe(0);
        expect(created.stdout).toMatch(/^Client id: +remote-ci$/m);
        const first = printedSecret(created);
        await expect(scheduler.tokenFor('remote-ci', first)).resolves.toEqual(expect.any(String));

        const listed = await cli('clients', 'list');
        expect(listed.stdout).toMatch(/^remote-ci +developer +\S+ +active, 1 secret$/m);
        expect(listed.stdout).not.toContain(first);

        const rotated = await cli('clients', 'rotate-secret', 'remote-ci', '--grace', '1h');
        expect(rotated.code).toBe(0);
        const second = printedSecret(rotated);
        await expect(scheduler.tokenFor('remote-ci', first)).resolves.toEqual(expect.any(String));
        await expect(scheduler.tokenFor('remote-ci', second)).resolves.toEqual(expect.any(String));

        const revoked = await cli('clients', 'revoke', 'remote-ci');
        expect(revoked.stdout).toContain("Revoked client 'remote-ci'");
        await expect(scheduler.tokenFor('remote-ci', second)).rejects.toThrow();
      });

      it('answers a viewer calling an admin command with exit 1 and the 403 message', async () => {
        const secret = printedSecret(await cli('clients', 'create', 'watcher', '--role', 'viewer'));
        useClient('watcher', secret);

        const result = await cli('clients', 'list');

        expect(result.code).toBe(1);
        expect(result.stderr).toMatch(/^error: .*admin/m);
        expect(result.stderr).not.toContain(secret);
      });

      it('says the credentials were refused when SLUICE_CLIENT_SECRET is wrong', async () => {
        const wrong = 'not-the-secret-0123456789';
        useClient(scheduler.admin.clientId, wrong);

        const result = await cli('clients', 'list');

        expect(result.code).toBe(1);
        expect(result.stderr).toContain(
          `refused the credentials of client '${scheduler.admin.clientId}'`,
        );
        expect(result.stderr).toContain('SLUICE_CLIENT_SECRET');
        expect(result.stderr).not.toContain(wrong);
      });

      it('names the variable that is missing when SLUICE_URL is set', async () => {
        vi.stubEnv('SLUICE_CLIENT_SECRET', '');

        const result = await cli('clients', 'list');

        expect(result.code).toBe(1);
        expect(result.stderr).toContain('SLUICE_CLIENT_SECRET is not set');
      });

      it('refuses plain HTTP to a host that is not this machine', async () => {
        vi.stubEnv('SLUICE_URL', 'http://scheduler.example.com:8470');

        const result = await cli('clients', 'list');

        expect(result.code).toBe(1);
        expect(result.stderr).toContain('use https://');
      });

      it('names the address, without credentials, when the Scheduler is unreachable', async () => {
        const port = await closedPort();
        vi.stubEnv('SLUICE_URL', `http://127.0.0.1:${port}`);

        const result = await cli('clients', 'list');

        expect(result.code).toBe(1);
        expect(result.stderr).toContain(`Cannot reach the Scheduler at http://127.0.0.1:${port}`);
        expect(result.stderr).not.toContain(scheduler.admin.secret);
      });
    },
  );
}

/** A loopback port that nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}
