import { spawn } from 'node:child_process';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { formatKeyRing } from '../../src/state/crypto/key-ring.js';
import type { StateLocation } from '../../src/state/state-types.js';
import {
  type StateBackendUnderTest,
  stateBackendsUnderTest,
  type TestStateLocation,
  testKeyRing,
  testStateKey,
} from '../helpers/state-backends.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const child = join(root, 'test/state/fixtures/bulk-read-child.mjs');
const ring = testKeyRing(testStateKey('k1'));
const ENTRIES = 1_200;

type ChildReport = {
  readonly entries: number;
  readonly isInOrder: boolean;
  readonly workersAfterRead: number;
  readonly workersAtEnd: number;
};

type ChildResult = { code: number | null; stdout: string; stderr: string };

function runChild(location: StateLocation, env: Record<string, string> = {}): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const process_ = spawn(process.execPath, [child], {
      env: {
        ...process.env,
        SLUICE_TEST_STATE_LOCATION: JSON.stringify(location),
        SLUICE_STATE_KEYS: formatKeyRing(ring),
        SLUICE_TEST_ENTRIES: String(ENTRIES),
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    process_.stdout.on('data', (chunk) => {
      stdout += String(chunk);
    });
    process_.stderr.on('data', (chunk) => {
      stderr += String(chunk);
    });
    process_.on('error', reject);
    process_.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function reportOf(result: ChildResult): ChildReport {
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as ChildReport;
}

/** The child runs the compiled code; it must not be older than the sources. */
async function assertBuildIsCurrent(): Promise<void> {
  const built = await stat(join(root, 'dist/state/payload-decryption.js')).catch(() => undefined);
  const sources = await readdir(join(root, 'src/state'), { recursive: true });
  const times = await Promise.all(
    sources
      .filter((file) => file.endsWith('.ts'))
      .map(async (file) => (await stat(join(root, 'src/state', file))).mtimeMs),
  );
  if (built === undefined || built.mtimeMs < Math.max(...times)) {
    throw new Error('dist/ is missing or older than src/state; run `npm run build` first');
  }
}

function describeChildRuns(
  title: string,
  backend: StateBackendUnderTest,
  body: (fresh: () => Promise<StateLocation>) => void,
) {
  describe.skipIf(backend.skipReason !== '')(`${title} on ${backend.name}`, () => {
    let test: TestStateLocation | undefined;

    beforeAll(assertBuildIsCurrent);

    afterEach(async () => {
      await test?.cleanup();
      test = undefined;
    });

    body(async () => {
      test = await backend.create();
      return test.location;
    });
  });
}

for (const backend of stateBackendsUnderTest()) {
  describeChildRuns('a process that reads in bulk and closes the store', backend, (fresh) => {
    it('exits on its own, with every worker stopped', async () => {
      const report = reportOf(await runChild(await fresh()));

      expect(report).toMatchObject({ entries: ENTRIES, isInOrder: true, workersAtEnd: 0 });
      expect(report.workersAfterRead).toBeGreaterThan(0);
    });
  });
}

// Only SQLite: an open PostgreSQL pool keeps its own connections, and so the process, alive.
const sqlite = stateBackendsUnderTest().find((backend) => backend.name === 'sqlite');
if (sqlite !== undefined) {
  describeChildRuns('a process that reads in bulk and leaves the store open', sqlite, (fresh) => {
    it('still exits on its own, as idle workers hold nothing', async () => {
      const report = reportOf(await runChild(await fresh(), { SLUICE_TEST_SKIP_CLOSE: 'true' }));

      expect(report).toMatchObject({ entries: ENTRIES, isInOrder: true });
      expect(report.workersAtEnd).toBeGreaterThan(0);
    });
  });
}
