import { mkdtemp, readdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { appendAuditEntry, readAuditEntries } from '../../src/state/audit-log.js';
import { loadKeyRing } from '../../src/state/crypto/key-ring.js';
import { STATE_MIGRATIONS } from '../../src/state/migrations/index.js';
import { openStateStore } from '../../src/state/open-state-store.js';
import { defaultStateLocation } from '../../src/state/state-location.js';
import { runCli } from '../helpers/temp-project.js';

async function openDefault(root: string) {
  const { ring } = await loadKeyRing({ env: {}, defaultFile: join(root, '.sluice', 'state.key') });
  return openStateStore({ location: defaultStateLocation(root), keyRing: ring });
}

describe('sluice state', () => {
  it('creates the embedded state with an owner-only key and shows its migrations', async () => {
    const root = await mkdtemp(join(tmpdir(), 'sluice-state-'));

    const before = await runCli('--project', root, 'state', 'status');
    const migrate = await runCli('--project', root, 'state', 'migrate');
    const after = await runCli('--project', root, 'state', 'status');
    const keyMode = (await stat(join(root, '.sluice', 'state.key'))).mode & 0o777;

    expect(before.stdout).toContain('001 store: pending');
    expect(migrate.stdout).toContain(`schema version ${STATE_MIGRATIONS.length}`);
    expect(after.stdout).toMatch(/001 store: applied \d{4}-/);
    expect(keyMode).toBe(0o600);
  });

  it('backs up, verifies and restores what the state held at backup time', async () => {
    const root = await mkdtemp(join(tmpdir(), 'sluice-state-'));
    await runCli('--project', root, 'state', 'migrate');
    let store = await openDefault(root);
    await appendAuditEntry(store, {
      actor: 'ci',
      action: 'first',
      subject: 's',
      details: { n: 1 },
    });
    await store.close();

    const backup = await runCli('--project', root, 'state', 'backup');
    const file = backup.stdout.trim();
    store = await openDefault(root);
    await appendAuditEntry(store, { actor: 'ci', action: 'second', subject: 's', details: {} });
    await store.close();
    const verify = await runCli('--project', root, 'state', 'verify', file);
    const refused = await runCli('--project', root, 'state', 'restore', file);
    const restore = await runCli('--project', root, 'state', 'restore', '--yes', file);
    store = await openDefault(root);
    const entries = await readAuditEntries(store, { limit: 10 });
    await store.close();

    expect(backup.code).toBe(0);
    expect(verify.stdout).toContain('is a good sqlite backup');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('pass --yes');
    expect(restore.code).toBe(0);
    expect(entries.map((entry) => entry.action)).toEqual(['first', 'state.restored']);
  });

  it('rekeys to a new key and reports that no row uses the old one', async () => {
    const root = await mkdtemp(join(tmpdir(), 'sluice-state-'));
    await runCli('--project', root, 'state', 'migrate');
    const store = await openDefault(root);
    const oldKey = store.keyRing.active.id;
    await appendAuditEntry(store, { actor: 'ci', action: 'a', subject: 's', details: { x: 1 } });
    await store.close();

    const rekey = await runCli('--project', root, 'state', 'rekey', '--new-key');

    expect(rekey.code).toBe(0);
    expect(rekey.stdout).toContain('Rewrapped 1 payloads');
    expect(rekey.stdout).toContain(`No row uses key ${oldKey} any more`);
  });

  it('refuses a state URL without keys from the environment', async () => {
    const root = await mkdtemp(join(tmpdir(), 'sluice-state-'));

    const result = await runCli('--project', root, 'state', 'status', '--state', 'sqlite://x.db');

    expect(result.code).toBe(1);
    expect(result.stderr).toContain('SLUICE_STATE_KEYS');
    expect(await readdir(root)).toEqual([]);
  });
});
