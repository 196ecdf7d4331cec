import { spawn } from 'node:child_process';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type AuditEntry, appendAuditEntry, readAuditEntries } from '../../src/state/audit-log.js';
import { formatKeyRing, withNewActiveKey } from '../../src/state/crypto/key-ring.js';
import { openStateStore } from '../../src/state/open-state-store.js';
import { countPayloadsByKey, type RekeyProgress, rekeyState } from '../../src/state/rekey.js';
import type { KeyRing, StateLocation } from '../../src/state/state-types.js';
import {
  stateBackendsUnderTest,
  type TestStateLocation,
  testKeyRing,
  testStateKey,
} from '../helpers/state-backends.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const child = join(root, 'test/state/fixtures/rekey-child.mjs');

const k1 = testStateKey('k1');
const k2 = testStateKey('k2');
const oldRing = testKeyRing(k1);
const newRing = withNewActiveKey(oldRing, k2);
const onlyNewRing = testKeyRing(k2);

/** Writes `count` audit entries with the old ring; returns them as written. */
async function writeEntries(location: StateLocation, count: number): Promise<AuditEntry[]> {
  const store = await openStateStore({ location, keyRing: oldRing, shouldMigrate: true });
  try {
    const entries = [];
    for (let index = 0; index < count; index++) {
      entries.push(
        await appendAuditEntry(store, {
          actor: 'alice',
          action: 'plan.apply',
          subject: `shop.model_${index}`,
          details: { index, text: `payload ${index}` },
        }),
      );
    }
    return entries;
  } finally {
    await store.close();
  }
}

async function readAll(location: StateLocation, keyRing: KeyRing): Promise<AuditEntry[]> {
  const store = await openStateStore({ location, keyRing });
  try {
    return await readAuditEntries(store, { limit: 100_000 });
  } finally {
    await store.close();
  }
}

type ChildResult = { code: number | null; signal: NodeJS.Signals | null; stderr: string };

function runRekeyChild(location: StateLocation, env: Record<string, string>): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const process_ = spawn(process.execPath, [child], {
      env: {
        ...process.env,
        SLUICE_TEST_STATE_LOCATION: JSON.stringify(location),
        SLUICE_STATE_KEYS: formatKeyRing(newRing),
        ...env,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    process_.stderr.on('data', (chunk) => {
      stderr += String(chunk);
    });
    process_.on('error', reject);
    process_.on('close', (code, signal) => resolve({ code, signal, stderr }));
  });
}

/** The crash test runs the compiled code; it must not be older than the sources. */
async function assertBuildIsCurrent(): Promise<void> {
  const built = await stat(join(root, 'dist/state/rekey.js')).catch(() => undefined);
  const sources = await readdir(join(root, 'src/state'), { recursive: true });
  const times = await Promise.all(
    sources
      .filter((file) => file.endsWith('.ts'))
      .map(async (file) => {
        return (await stat(join(root, 'src/state', file))).mtimeMs;
      }),
  );
  if (built === undefined || built.mtimeMs < Math.max(...times)) {
    throw new Error('dist/ is missing or older than src/state; run `npm run build` first');
  }
}

for (const backend of stateBackendsUnderTest()) {
  describe.skipIf(backend.skipReason !== '')(`rekey on ${backend.name}`, () => {
    let test: TestStateLocation | undefined;

    async function freshLocation(): Promise<StateLocation> {
      test = await backend.create();
      return test.location;
    }

    afterEach(async () => {
      await test?.cleanup();
      test = undefined;
    });

    it('rewraps all payloads onto the new active key and reports none on the old one', async () => {
      const location = await freshLocation();
      const written = await writeEntries(location, 23);

      const store = await openStateStore({ location, keyRing: newRing });
      const progress: RekeyProgress[] = [];
      try {
        expect(await countPayloadsByKey(store)).toEqual({ k1: 23 });
        const report = await rekeyState(store, {
          batchSize: 5,
          onProgress: (p) => progress.push(p),
        });
        // The run's own audit entry is the 24th payload.
        expect(report).toEqual({ rewrapped: 23, rowsByKey: { k2: 24 } });
      } finally {
        await store.close();
      }

      expect(progress).toHaveLength(5);
      expect(progress.at(-1)).toEqual({
        table: 'sluice_audit_log',
        column: 'details',
        scanned: 23,
        rewrapped: 23,
      });
      const entries = await readAll(location, onlyNewRing);
      expect(entries.slice(0, 23)).toEqual(written);
      expect(entries.slice(23)).toMatchObject([
        {
          actor: 'local',
          action: 'state.rekeyed',
          subject: 'state',
          details: { keyId: 'k2', rows: 23 },
        },
      ]);
    });

    it('records who ran it in the audit log', async () => {
      const location = await freshLocation();
      await writeEntries(location, 2);
      const store = await openStateStore({ location, keyRing: newRing });
      try {
        await rekeyState(store, { actor: 'admin-client' });
      } finally {
        await store.close();
      }

      const last = (await readAll(location, onlyNewRing)).at(-1);
      expect(last).toMatchObject({ actor: 'admin-client', action: 'state.rekeyed', seq: 3 });
    });

    it('rewraps nothing when every payload is already on the active key', async () => {
      const location = await freshLocation();
      await writeEntries(location, 4);
      const store = await openStateStore({ location, keyRing: newRing });
      try {
        await rekeyState(store);
        // Four entries and one audit entry per run.
        expect(await rekeyState(store)).toEqual({ rewrapped: 0, rowsByKey: { k2: 6 } });
      } finally {
        await store.close();
      }
    });

    describe('when killed mid-way', () => {
      beforeAll(assertBuildIsCurrent);

      it('resumes on the next run and loses nothing', async () => {
        const location = await freshLocation();
        const written = await writeEntries(location, 50);

        const killed = await runRekeyChild(location, {
          SLUICE_TEST_BATCH_SIZE: '5',
          SLUICE_FAILPOINT: 'rekey-after-batch:2',
        });
        expect(killed.stderr).toBe('');
        expect(killed.signal).toBe('SIGKILL');

        const store = await openStateStore({ location, keyRing: newRing });
        try {
          expect(await countPayloadsByKey(store)).toEqual({ k1: 40, k2: 10 });
          expect(await rekeyState(store, { batchSize: 5 })).toEqual({
            rewrapped: 40,
            rowsByKey: { k2: 51 },
          });
        } finally {
          await store.close();
        }
        const entries = await readAll(location, onlyNewRing);
        expect(entries.slice(0, 50)).toEqual(written);
        expect(entries.slice(50).map((entry) => entry.action)).toEqual(['state.rekeyed']);
      });
    });
  });
}
