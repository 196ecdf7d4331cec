import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  expiredEnvironmentsOf,
  liveVersionIdsOf,
  selectUnusedTables,
} from '../../../src/scheduler/janitor/plan-janitor.js';
import type { EnvironmentRecord } from '../../../src/state/environment-store.js';
import type { BuiltVersion } from '../../../src/state/janitor-store.js';

/** The janitor's selection logic, without a store. */

const NOW = new Date('2024-06-10T00:00:00.000Z');
const HOUR_MS = 3_600_000;

function environment(
  name: string,
  snapshotIds: Record<string, string>,
  extra: Partial<EnvironmentRecord> = {},
): EnvironmentRecord {
  return {
    name,
    revision: 1,
    snapshotIds,
    previousSnapshotIds: undefined,
    planId: undefined,
    createdAt: '2024-06-01T00:00:00.000Z',
    updatedAt: '2024-06-01T00:00:00.000Z',
    lastUsedAt: '2024-06-01T00:00:00.000Z',
    expiresAt: undefined,
    ...extra,
  };
}

function built(id: string, unusedSince?: string): BuiltVersion {
  return {
    id,
    modelName: id.split('/')[0] ?? id,
    version: id.split('/')[1] ?? '',
    table: { schema: 'sluice__s', name: id.replace('/', '__') },
    tableCreatedAt: '2024-06-01T00:00:00.000Z',
    unusedSince,
  };
}

describe('expired environments', () => {
  it('selects environments whose expiry has passed and never prod', () => {
    const environments = [
      environment('prod', {}, { expiresAt: '2024-06-01T00:00:00.000Z' }),
      environment('dev', {}, { expiresAt: '2024-06-09T00:00:00.000Z' }),
      environment('fresh', {}, { expiresAt: '2024-06-11T00:00:00.000Z' }),
      environment('forever', {}),
    ];

    expect(expiredEnvironmentsOf(environments, NOW).map((found) => found.name)).toEqual(['dev']);
  });
});

describe('live versions', () => {
  it('counts the versions environments hold now and keep for rollback', () => {
    const versionOf = new Map([
      ['a/1/m', 'a/1'],
      ['a/2/m', 'a/2'],
      ['b/1/m', 'b/1'],
    ]);
    const prod = environment('prod', { a: 'a/2/m' }, { previousSnapshotIds: { a: 'a/1/m' } });
    const dev = environment('dev', { b: 'b/1/m' });

    expect(liveVersionIdsOf([prod, dev], versionOf)).toEqual(new Set(['a/2', 'a/1', 'b/1']));
    expect(liveVersionIdsOf([prod], versionOf)).toEqual(new Set(['a/2', 'a/1']));
  });
});

describe('unused tables', () => {
  const ttlMs = 24 * HOUR_MS;
  const ago = (ms: number) => new Date(NOW.getTime() - ms).toISOString();

  it('marks a version newly unused and keeps its table until the TTL has passed', () => {
    const selection = selectUnusedTables([built('a/1')], new Set(), NOW.getTime(), ttlMs);

    expect(selection.newlyUnusedIds).toEqual(['a/1']);
    expect(selection.due).toEqual([]);
    expect(selection.waiting.map((version) => version.unusedSinceMs)).toEqual([NOW.getTime()]);
  });

  it('drops a table once it has been unused for the TTL, not before', () => {
    const selection = selectUnusedTables(
      [built('a/1', ago(ttlMs)), built('b/1', ago(ttlMs - 1))],
      new Set(),
      NOW.getTime(),
      ttlMs,
    );

    expect(selection.due.map((version) => version.id)).toEqual(['a/1']);
    expect(selection.waiting.map((version) => version.id)).toEqual(['b/1']);
    expect(selection.newlyUnusedIds).toEqual([]);
  });

  it('never drops a live version and clears its unused mark', () => {
    const selection = selectUnusedTables(
      [built('a/1', ago(10 * ttlMs)), built('b/1')],
      new Set(['a/1', 'b/1']),
      NOW.getTime(),
      ttlMs,
    );

    expect(selection).toEqual({ newlyUnusedIds: [], usedAgainIds: ['a/1'], due: [], waiting: [] });
  });

  it('selects exactly the versions that are not live, whatever their marks', () => {
    const version = fc.record({
      id: fc.stringMatching(/^[a-e]\/[0-3]$/),
      unusedForMs: fc.option(fc.integer({ min: 0, max: 3 * ttlMs }), { nil: undefined }),
    });
    fc.assert(
      fc.property(
        fc.uniqueArray(version, { selector: (item) => item.id }),
        fc.uniqueArray(fc.stringMatching(/^[a-e]\/[0-3]$/)),
        (versions, liveIds) => {
          const live = new Set(liveIds);
          const all = versions.map((item) =>
            built(item.id, item.unusedForMs === undefined ? undefined : ago(item.unusedForMs)),
          );
          const selection = selectUnusedTables(all, live, NOW.getTime(), ttlMs);
          const selected = [...selection.due, ...selection.waiting].map((item) => item.id);

          expect(new Set(selected)).toEqual(
            new Set(all.filter((item) => !live.has(item.id)).map((item) => item.id)),
          );
          for (const due of selection.due) {
            expect(NOW.getTime() - due.unusedSinceMs).toBeGreaterThanOrEqual(ttlMs);
          }
        },
      ),
    );
  });
});
