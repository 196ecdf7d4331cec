import { readFile, rm } from 'node:fs/promises';
import Database from 'better-sqlite3-multiple-ciphers';
import { afterEach, describe, expect, it } from 'vitest';
import { SluiceError } from '../../src/core/errors.js';
import { appendAuditEntry, readAuditEntries } from '../../src/state/audit-log.js';
import { withNewActiveKey } from '../../src/state/crypto/key-ring.js';
import { sqliteFileKey } from '../../src/state/crypto/sqlite-file-key.js';
import { STATE_MIGRATIONS } from '../../src/state/migrations/index.js';
import { openStateStore } from '../../src/state/open-state-store.js';
import { rekeyState } from '../../src/state/rekey.js';
import type { StateStore } from '../../src/state/state-store.js';
import type { KeyRing } from '../../src/state/state-types.js';
import { internalsOf } from '../../src/state/store-internals.js';
import { stateBackendsUnderTest, testKeyRing, testStateKey } from '../helpers/state-backends.js';

const [sqlite] = stateBackendsUnderTest().filter((backend) => backend.name === 'sqlite');

const k1 = testStateKey('k1');
const oldRing = testKeyRing(k1);
const newRing = withNewActiveKey(oldRing, testStateKey('k2'));
const onlyNewRing = testKeyRing(newRing.active);

describe('the encrypted SQLite state file', () => {
  let path = '';
  let cleanup: () => Promise<void> = async () => undefined;
  const stores: StateStore[] = [];

  async function createWith(keyRing: KeyRing): Promise<StateStore> {
    if (sqlite === undefined) throw new Error('the SQLite backend is always under test');
    const test = await sqlite.create();
    if (test.location.backend !== 'sqlite') throw new Error('expected a SQLite location');
    path = test.location.path;
    cleanup = test.cleanup;
    return open(keyRing, { shouldMigrate: true });
  }

  async function open(keyRing: KeyRing, options: { shouldMigrate?: boolean } = {}) {
    const store = await openStateStore({
      location: { backend: 'sqlite', path },
      keyRing,
      keySource: 'SLUICE_STATE_KEYS',
      ...options,
    });
    stores.push(store);
    return store;
  }

  async function openError(keyRing: KeyRing): Promise<SluiceError> {
    const error = await open(keyRing).catch((caught: unknown) => caught);
    if (error instanceof SluiceError) return error;
    throw new Error(`expected a SluiceError, got ${String(error)}`);
  }

  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
    await cleanup();
  });

  it('holds no plaintext and cannot be read without the key', async () => {
    const store = await createWith(oldRing);
    await appendAuditEntry(store, {
      actor: 'marker-actor-7f3a',
      action: 'x',
      subject: 'y',
      details: {},
    });
    await store.close();

    expect((await readFile(path)).includes('marker-actor-7f3a')).toBe(false);
    expect((await readFile(path)).includes('sluice_audit_log')).toBe(false);
    const plain = new Database(path);
    try {
      expect(() => plain.prepare('SELECT name FROM sqlite_master').all()).toThrow(
        /file is not a database/,
      );
    } finally {
      plain.close();
    }
  });

  it('refuses a key ring without the file key, never reading it as empty', async () => {
    await (await createWith(oldRing)).close();
    const wrong = testKeyRing(testStateKey('other'));

    const error = await openError(wrong);

    expect(error.code).toBe('state_key_invalid');
    expect(error.message).toContain(`The state file '${path}' cannot be opened with the keys`);
    expect(error.message).toContain("from SLUICE_STATE_KEYS ('other')");
    const secrets = [wrong.active.secret.toString('base64'), sqliteFileKey(wrong.active)];
    for (const secret of secrets) expect(error.message).not.toContain(secret);
  });

  it('refuses a SQLite file that Sluice did not write', async () => {
    await (await createWith(oldRing)).close();
    await rm(path);
    const foreign = new Database(path);
    foreign.exec('CREATE TABLE t (a TEXT)');
    foreign.close();

    expect((await openError(oldRing)).code).toBe('state_key_invalid');
  });

  it('opens with the new key only once a new active key is added and rekey has run', async () => {
    const store = await createWith(oldRing);
    const entry = await appendAuditEntry(store, {
      actor: 'a',
      action: 'b',
      subject: 'c',
      details: { n: 1 },
    });
    await store.close();

    const rekeyed = await open(newRing);
    expect(await rekeyState(rekeyed)).toEqual({ rewrapped: 1, rowsByKey: { k2: 2 } });
    await rekeyed.close();

    const reopened = await open(onlyNewRing);
    const entries = await readAuditEntries(reopened, { limit: 10 });
    expect(entries[0]).toEqual(entry);
    expect(entries.map((read) => read.action)).toEqual(['b', 'state.rekeyed']);
    expect((await openError(oldRing)).code).toBe('state_key_invalid');
  });

  it('keeps the old file key while another connection is open; rekey moves it later', async () => {
    const first = await createWith(oldRing);

    const second = await open(newRing);
    expect(internalsOf(second).fileKeyId()).toBe('k1');
    expect(await second.schemaVersion()).toBe(STATE_MIGRATIONS.length);

    await first.close();
    await rekeyState(second);
    expect(internalsOf(second).fileKeyId()).toBe('k2');
    await second.close();
    expect(await (await open(onlyNewRing)).schemaVersion()).toBe(STATE_MIGRATIONS.length);
  });
});
