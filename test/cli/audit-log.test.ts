import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AuditEntryInfo } from '../../src/protocol/audit-log-api.js';
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
 * `sluice audit-log` and `sluice audit-log verify`, on the state store itself on both backends
 * and through a real Scheduler on loopback; an edited row breaks the chain and fails verify.
 */

const ring = testKeyRing(testStateKey('k1'));

function entriesOf(result: CliResult): AuditEntryInfo[] {
  return (JSON.parse(result.stdout) as { entries: AuditEntryInfo[] }).entries;
}

/** Edits an entry's actor behind the log's back, as someone with database access could. */
async function tamperWith(store: StateStore, seq: number): Promise<void> {
  await store.db
    .updateTable('sluice_audit_log')
    .set({ actor: 'mallory' })
    .where('seq', '=', seq)
    .execute();
}

for (const backend of stateBackendsUnderTest()) {
  describe.skipIf(backend.skipReason !== '')(`audit log on the ${backend.name} state store`, () => {
    let test: TestStateLocation;
    let projectDir: string;
    let store: StateStore | undefined;

    const cli = (...args: string[]) =>
      runCli('--project', projectDir, ...args, '--state', stateUrlOf(test.location));

    beforeEach(async () => {
      test = await backend.create();
      projectDir = await mkdtemp(join(tmpdir(), 'sluice-audit-log-'));
      vi.stubEnv('SLUICE_STATE_KEYS', formatKeyRing(ring));
      vi.stubEnv('SLUICE_URL', '');
      expect((await cli('clients', 'bootstrap')).code).toBe(0);
      expect((await cli('clients', 'create', 'ci', '--role', 'deployer')).code).toBe(0);
      expect((await cli('clients', 'revoke', 'ci')).code).toBe(0);
    });

    afterEach(async () => {
      vi.unstubAllEnvs();
      await store?.close();
      store = undefined;
      await test.cleanup();
      await rm(projectDir, { recursive: true, force: true });
    });

    it('lists the entries oldest first, one line each, with the local actor', async () => {
      const result = await cli('audit-log');

      expect(result.code).toBe(0);
      const lines = result.stdout.trim().split('\n');
      const actor = `local:${userInfo().username}`;
      expect(lines).toHaveLength(3);
      expect(lines[0]).toMatch(new RegExp(`^1  \\S+  ${actor}  client\\.created  admin`));
      expect(lines[1]).toMatch(new RegExp(`^2  \\S+  ${actor}  client\\.created  ci`));
      expect(lines[2]).toMatch(new RegExp(`^3  \\S+  ${actor}  client\\.revoked  ci`));
    });

    it('pages with --after and --limit and prints JSON when asked', async () => {
      const page = await cli('audit-log', '--after', '1', '--limit', '1', '--format', 'json');

      expect(page.code).toBe(0);
      const entries = entriesOf(page);
      expect(entries.map((entry) => [entry.seq, entry.action, entry.subject])).toEqual([
        [2, 'client.created', 'ci'],
      ]);
      expect(entries[0]?.hash).toMatch(/^[0-9a-f]{64}$/);
      const text = await cli('audit-log', '--after', '1', '--limit', '1');
      expect(text.stdout).toContain("More entries may follow: run 'sluice audit-log --after 2'.");
      expect((await cli('audit-log', '--after', '3')).stdout).toBe('No entries after 3.\n');
    });

    it('refuses a limit that is not a positive whole number', async () => {
      const result = await cli('audit-log', '--limit', '0');

      expect(result.code).toBe(1);
      expect(result.stderr).toContain("--limit '0' is not a whole number of at least 1");
    });

    it('verifies an intact chain and reports its head', async () => {
      const result = await cli('audit-log', 'verify');

      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/^Audit log chain: intact$/m);
      expect(result.stdout).toMatch(/^Entries: +3$/m);
      expect(result.stdout).toMatch(/^Head: +entry 3, hash [0-9a-f]{64}$/m);
    });

    it('exits 1 naming the entry when a row was edited after it was written', async () => {
      store = await openStateStore({ location: test.location, keyRing: ring, shouldMigrate: true });
      await tamperWith(store, 2);

      const result = await cli('audit-log', 'verify');
      const json = await cli('audit-log', 'verify', '--format', 'json');

      expect(result.code).toBe(1);
      expect(result.stdout).toMatch(/^Audit log chain: BROKEN at entry 2: /m);
      expect(result.stderr).toMatch(/^error: The audit log's hash chain is broken at entry 2: /m);
      expect(json.code).toBe(1);
      expect(JSON.parse(json.stdout)).toMatchObject({ intact: false, problem: { seq: 2 } });
    });
  });

  describe.skipIf(backend.skipReason !== '')(
    `audit log through the Scheduler on ${backend.name}`,
    () => {
      let scheduler: TestScheduler;
      let projectDir: string;

      const cli = (...args: string[]) => runCli('--project', projectDir, ...args);

      beforeAll(async () => {
        scheduler = await startTestScheduler(backend);
        projectDir = await mkdtemp(join(tmpdir(), 'sluice-audit-log-'));
      });

      afterAll(async () => {
        await scheduler?.close();
        await rm(projectDir, { recursive: true, force: true });
      });

      beforeEach(() => {
        vi.stubEnv('SLUICE_URL', scheduler.url);
        vi.stubEnv('SLUICE_CLIENT_ID', scheduler.admin.clientId);
        vi.stubEnv('SLUICE_CLIENT_SECRET', scheduler.admin.secret);
      });
      afterEach(() => vi.unstubAllEnvs());

      it('lists entries and verifies the chain through the API, then detects an edit', async () => {
        expect((await cli('clients', 'create', 'audited', '--role', 'viewer')).code).toBe(0);

        const listed = await cli('audit-log', '--format', 'json');
        const verified = await cli('audit-log', 'verify');

        expect(listed.code).toBe(0);
        const created = entriesOf(listed).find(
          (entry) => entry.action === 'client.created' && entry.subject === 'audited',
        );
        expect(created?.actor).toContain(scheduler.admin.clientId);
        expect(verified.code).toBe(0);
        expect(verified.stdout).toMatch(/^Audit log chain: intact$/m);

        await tamperWith(scheduler.store, created?.seq ?? 0);
        const broken = await cli('audit-log', 'verify');

        expect(broken.code).toBe(1);
        expect(broken.stderr).toContain(`broken at entry ${created?.seq}`);
      });

      it("answers a viewer's request for the audit log with exit 1", async () => {
        const secret = /^Client secret: (\S+)$/m.exec(
          (await cli('clients', 'create', 'auditor', '--role', 'viewer')).stdout,
        )?.[1];
        vi.stubEnv('SLUICE_CLIENT_ID', 'auditor');
        vi.stubEnv('SLUICE_CLIENT_SECRET', secret ?? '');

        const result = await cli('audit-log');

        expect(result.code).toBe(1);
        expect(result.stderr).toMatch(/^error: .*admin/m);
      });
    },
  );
}
