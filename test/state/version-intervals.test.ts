import { spawn } from 'node:child_process';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { mergeRanges, type TimeRange } from '../../src/core/intervals/range-set.js';
import { formatKeyRing } from '../../src/state/crypto/key-ring.js';
import { openStateStore } from '../../src/state/open-state-store.js';
import type { StateStore } from '../../src/state/state-store.js';
import type { StateLocation } from '../../src/state/state-types.js';
import {
  addProcessedRanges,
  clearProcessedRanges,
  readProcessedRanges,
} from '../../src/state/version-intervals.js';
import {
  stateBackendsUnderTest,
  type TestStateLocation,
  testKeyRing,
  testStateKey,
} from '../helpers/state-backends.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const writerChild = join(root, 'test/state/fixtures/intervals-writer-child.mjs');
const ring = testKeyRing(testStateKey('k1'));
const DAY_MS = 86_400_000;
const JAN_2024_MS = Date.UTC(2024, 0, 1);

/** The range of the `index`-th day after 2024-01-01. */
function day(index: number): TimeRange {
  return [JAN_2024_MS + index * DAY_MS, JAN_2024_MS + (index + 1) * DAY_MS];
}

/** Adds a version row, which interval rows refer to. */
async function addVersion(store: StateStore, versionId: string): Promise<void> {
  await store.db
    .insertInto('sluice_versions')
    .values({
      id: versionId,
      model_name: versionId.split('/')[0],
      version: versionId.split('/')[1],
      created_at: new Date().toISOString(),
    })
    .execute();
}

async function rangesOf(store: StateStore, versionId: string): Promise<TimeRange[]> {
  return (await readProcessedRanges(store, [versionId])).get(versionId) ?? [];
}

async function rowCount(store: StateStore, versionId: string): Promise<number> {
  const rows = await store.db
    .selectFrom('sluice_intervals')
    .select('start_ms')
    .where('version_id', '=', versionId)
    .execute();
  return rows.length;
}

/** A writer in another process, started and ready; `go` lets it write and waits until it ends. */
type Writer = { go(): Promise<void> };

/** Starts the child that adds `ranges` to a version, and waits until its store is open. */
async function startWriter(
  location: StateLocation,
  versionId: string,
  ranges: readonly TimeRange[],
): Promise<Writer> {
  const input = { location, keys: formatKeyRing(ring), versionId, ranges };
  const child = spawn(process.execPath, [writerChild], {
    env: { ...process.env, SLUICE_TEST_INTERVALS_CHILD: JSON.stringify(input) },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr += String(chunk);
  });
  const ended = new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new Error(`the writer process exited with ${code}: ${stderr}`));
    });
  });

  const lines = createInterface({ input: child.stdout });
  const ready = new Promise<void>((resolve) => {
    lines.on('line', (line) => {
      if (line === 'ready') resolve();
    });
  });
  await Promise.race([ready, ended]);
  return {
    go: async () => {
      child.stdin.end();
      await ended;
    },
  };
}

/** The writer process runs the compiled code; it must not be older than the sources. */
async function assertBuildIsCurrent(): Promise<void> {
  const built = await stat(join(root, 'dist/state/version-intervals.js')).catch(() => undefined);
  const stateSources = await readdir(join(root, 'src/state'), { recursive: true });
  const sources = [
    ...stateSources.filter((file) => file.endsWith('.ts')).map((file) => `src/state/${file}`),
    'src/core/intervals/range-set.ts',
  ];
  const times = await Promise.all(
    sources.map(async (file) => (await stat(join(root, file))).mtimeMs),
  );
  if (built === undefined || built.mtimeMs < Math.max(...times)) {
    throw new Error('dist/ is missing or older than src/state; run `npm run build` first');
  }
}

for (const backend of stateBackendsUnderTest()) {
  describe.skipIf(backend.skipReason !== '')(`processed ranges on ${backend.name}`, () => {
    let test: TestStateLocation | undefined;
    let store: StateStore | undefined;

    async function openFresh(): Promise<StateStore> {
      test = await backend.create();
      store = await openStateStore({ location: test.location, keyRing: ring, shouldMigrate: true });
      await addVersion(store, 'shop.orders/aaaaaaaaaaaa');
      await addVersion(store, 'shop.orders/bbbbbbbbbbbb');
      return store;
    }

    afterEach(async () => {
      await store?.close();
      await test?.cleanup();
      store = undefined;
      test = undefined;
    });

    it('reads no ranges for a version that has processed nothing', async () => {
      const store = await openFresh();

      const ranges = await readProcessedRanges(store, ['shop.orders/aaaaaaaaaaaa', 'unknown/x']);

      expect(ranges).toEqual(
        new Map([
          ['shop.orders/aaaaaaaaaaaa', []],
          ['unknown/x', []],
        ]),
      );
    });

    it('merges overlapping and adjacent ranges and keeps separate ones apart', async () => {
      const store = await openFresh();
      const id = 'shop.orders/aaaaaaaaaaaa';

      await addProcessedRanges(store, id, [day(0), day(5)]);
      await addProcessedRanges(store, id, [day(1)]);
      await addProcessedRanges(store, id, [[day(4)[0] + 1000, day(6)[1]]]);
      await addProcessedRanges(store, id, [day(10)]);

      expect(await rangesOf(store, id)).toEqual([
        [day(0)[0], day(1)[1]],
        [day(4)[0] + 1000, day(6)[1]],
        day(10),
      ]);
      expect(await rowCount(store, id)).toBe(3);
    });

    it('joins ranges on both sides of a filled gap into one row', async () => {
      const store = await openFresh();
      const id = 'shop.orders/aaaaaaaaaaaa';
      await addProcessedRanges(store, id, [day(0), day(2), day(4)]);

      await addProcessedRanges(store, id, [day(1), day(3)]);

      expect(await rangesOf(store, id)).toEqual([[day(0)[0], day(4)[1]]]);
      expect(await rowCount(store, id)).toBe(1);
    });

    it('keeps one row for a thousand adjacent days added one call at a time', async () => {
      const store = await openFresh();
      const id = 'shop.orders/aaaaaaaaaaaa';

      for (let index = 0; index < 1000; index++) {
        await addProcessedRanges(store, id, [day(index)]);
      }

      expect(await rangesOf(store, id)).toEqual([[day(0)[0], day(999)[1]]]);
      expect(await rowCount(store, id)).toBe(1);
    });

    it('keeps one row per run between gaps, not per interval or call', async () => {
      const store = await openFresh();
      const id = 'shop.orders/aaaaaaaaaaaa';
      const gaps = new Set([50, 150, 250, 350, 450, 550, 650, 750, 850, 950]);

      for (let index = 0; index < 1000; index++) {
        if (!gaps.has(index)) await addProcessedRanges(store, id, [day(index)]);
      }

      const ranges = await rangesOf(store, id);
      expect(ranges).toHaveLength(11);
      expect(await rowCount(store, id)).toBe(11);
      expect(ranges[0]).toEqual([day(0)[0], day(49)[1]]);
      expect(ranges[1]).toEqual([day(51)[0], day(149)[1]]);
      expect(ranges[10]).toEqual([day(951)[0], day(999)[1]]);
    });

    it('keeps the ranges of different versions apart', async () => {
      const store = await openFresh();
      const first = 'shop.orders/aaaaaaaaaaaa';
      const second = 'shop.orders/bbbbbbbbbbbb';

      await addProcessedRanges(store, first, [day(0)]);
      await addProcessedRanges(store, second, [day(1)]);
      await addProcessedRanges(store, first, [day(2)]);

      expect(await readProcessedRanges(store, [first, second])).toEqual(
        new Map([
          [first, [day(0), day(2)]],
          [second, [day(1)]],
        ]),
      );
    });

    it('adds nothing for an empty list of ranges', async () => {
      const store = await openFresh();
      const id = 'shop.orders/aaaaaaaaaaaa';

      await addProcessedRanges(store, id, []);

      expect(await rowCount(store, id)).toBe(0);
    });

    it('forgets the ranges of one version only when cleared', async () => {
      const store = await openFresh();
      const first = 'shop.orders/aaaaaaaaaaaa';
      const second = 'shop.orders/bbbbbbbbbbbb';
      await addProcessedRanges(store, first, [day(0), day(3)]);
      await addProcessedRanges(store, second, [day(0)]);

      await clearProcessedRanges(store, first);

      expect(await rangesOf(store, first)).toEqual([]);
      expect(await rangesOf(store, second)).toEqual([day(0)]);
      await addProcessedRanges(store, first, [day(7)]);
      expect(await rangesOf(store, first)).toEqual([day(7)]);
    });

    it('loses no range when two processes add interleaved ranges of one version at once', async () => {
      await assertBuildIsCurrent();
      const store = await openFresh();
      const id = 'shop.orders/aaaaaaaaaaaa';
      const days = Array.from({ length: 240 }, (_, index) => index).filter(
        (index) => index % 9 !== 8,
      );
      const ours = days.filter((index) => index % 2 === 0).map(day);
      const theirs = days.filter((index) => index % 2 === 1).map(day);

      const writer = await startWriter(store.location, id, theirs);
      // Our calls are spread over a few milliseconds: a writer that SQLite makes wait sleeps in
      // its busy handler, and would otherwise only get the lock once the other one is done.
      await Promise.all([
        writer.go(),
        ...ours.map(async (range, index) => {
          await sleep(index % 20);
          await addProcessedRanges(store, id, [range]);
        }),
      ]);

      const expected = mergeRanges(days.map(day));
      expect(expected).toHaveLength(27);
      expect(await rangesOf(store, id)).toEqual(expected);
      expect(await rowCount(store, id)).toBe(expected.length);
    });

    it('round-trips times beyond 2^31 milliseconds exactly', async () => {
      const store = await openFresh();
      const id = 'shop.orders/aaaaaaaaaaaa';
      const startMs = Date.UTC(2100, 0, 1, 0, 0, 0, 123);
      const farMs = 8_640_000_000_000_000 - 1;

      await addProcessedRanges(store, id, [
        [startMs, startMs + DAY_MS + 1],
        [farMs - 7, farMs],
      ]);

      expect(await rangesOf(store, id)).toEqual([
        [startMs, startMs + DAY_MS + 1],
        [farMs - 7, farMs],
      ]);
    });
  });
}
