import { describe, expect, it } from 'vitest';
import type { StateStore } from '../../../src/state/state-store.js';
import { priceAttempt } from '../../../src/state/tasks/attempt-pricing.js';
import { completeTask } from '../../../src/state/tasks/complete-task.js';
import { readCostTotals } from '../../../src/state/tasks/task-costs.js';
import { freshStores } from '../../helpers/fresh-store.js';
import { stateBackendsUnderTest, testKeyRing, testStateKey } from '../../helpers/state-backends.js';
import { HOUR_MS, RATES, runAttempt, T0 } from './cost-fixture.js';
import { RETRY, SUCCEEDED } from './queue-fixture.js';

/**
 * Pricing attempts as their completions are accepted, and totals per model, run and environment
 * over a time range, per currency (the cost avoided by reusing versions: avoided-cost.test.ts).
 */

const ring = testKeyRing(testStateKey('k1'));

/** Five attempts over two runs, two environments and four gateways (one without a rate). */
async function seedAttempts(store: StateStore): Promise<void> {
  const prod = { runId: 'r1', environment: 'prod' };
  const dev = { runId: 'r2', environment: 'dev', nowMs: T0 + HOUR_MS };
  await runAttempt(store, {
    ...prod,
    id: 't1',
    gateway: 'warehouse',
    modelName: 'shop.orders',
    usage: { durationMs: HOUR_MS / 2, rowsWritten: 10 },
  });
  await runAttempt(store, {
    ...prod,
    id: 't2',
    gateway: 'lake',
    modelName: 'shop.events',
    usage: { durationMs: 1_000, bytesScanned: 2e12 },
  });
  await runAttempt(store, {
    ...dev,
    id: 't3',
    gateway: 'local',
    modelName: 'shop.orders',
    usage: { durationMs: 1_000, bytesScanned: 500, rowsWritten: 4 },
  });
  await runAttempt(store, {
    ...dev,
    id: 't4',
    gateway: 'lake',
    modelName: 'shop.events',
    usage: { durationMs: 2_000 },
  });
  await runAttempt(store, {
    ...dev,
    id: 't5',
    gateway: 'eu',
    modelName: 'shop.orders',
    usage: { durationMs: HOUR_MS },
  });
}

/** An attempt of task `id` on `gateway`, for a usage to give. */
function usageAttempt(id: string, gateway: string) {
  return { id, runId: 'r1', environment: 'prod', gateway, modelName: 'shop.events' };
}

async function costRow(store: StateStore, taskId: string) {
  return store.db
    .selectFrom('sluice_task_costs')
    .selectAll()
    .where('task_id', '=', taskId)
    .executeTakeFirstOrThrow();
}

describe('pricing an attempt', () => {
  it('prices compute hours by duration and TB scanned by bytes, and nothing without usage', () => {
    const hourly = RATES.get('warehouse');
    const scanned = RATES.get('lake');

    expect(priceAttempt(hourly, { durationMs: 90 * 60_000 })).toBeCloseTo(4.8, 10);
    expect(priceAttempt(scanned, { durationMs: 1, bytesScanned: 250e9 })).toBeCloseTo(1.25, 10);
    expect(priceAttempt(scanned, { durationMs: 1 })).toBeNull();
    expect(priceAttempt(undefined, { durationMs: HOUR_MS })).toBeNull();
  });
});

for (const backend of stateBackendsUnderTest()) {
  describe.skipIf(backend.skipReason !== '')(`task costs on ${backend.name}`, () => {
    const openFresh = freshStores(backend, ring);

    it("writes one priced row per attempt with the task's run, environment and model", async () => {
      const store = await openFresh();
      await seedAttempts(store);

      const hourly = await costRow(store, 't1');
      const scanned = await costRow(store, 't2');
      const unrated = await costRow(store, 't3');
      const noBytes = await costRow(store, 't4');

      expect(hourly).toMatchObject({
        id: 't1/1',
        run_id: 'r1',
        environment: 'prod',
        model_name: 'shop.orders',
        gateway: 'warehouse',
        rate_kind: 'per_compute_hour',
        currency: 'USD',
      });
      expect(Number(hourly.cost)).toBeCloseTo(1.6, 10);
      expect(Number(hourly.rows_written)).toBe(10);
      expect(Number(scanned.cost)).toBeCloseTo(10, 10);
      expect(scanned.rate_kind).toBe('per_tb_scanned');
      expect(unrated).toMatchObject({ cost: null, currency: null, gateway: 'local' });
      expect(Number(unrated.duration_ms)).toBe(1_000);
      expect(Number(unrated.bytes_scanned)).toBe(500);
      expect(noBytes).toMatchObject({ cost: null, bytes_scanned: null });
    });

    it('stores exactly the price that priceAttempt gives, and the usage as reported', async () => {
      const store = await openFresh();
      const usage = { durationMs: 1_234_567, bytesScanned: 987_654_321, rowsWritten: 42 };
      await runAttempt(store, { ...usageAttempt('t1', 'warehouse'), usage });
      await runAttempt(store, { ...usageAttempt('t2', 'lake'), usage });

      const hourly = await costRow(store, 't1');
      const scanned = await costRow(store, 't2');

      expect(hourly.cost).toBe(priceAttempt(RATES.get('warehouse'), usage));
      expect(scanned.cost).toBe(priceAttempt(RATES.get('lake'), usage));
      expect(Number(scanned.bytes_scanned)).toBe(usage.bytesScanned);
      expect(Number(scanned.rows_written)).toBe(usage.rowsWritten);
      expect(Number(scanned.priced_at_ms)).toBe(T0);
    });

    it('prices a replayed completion once', async () => {
      const store = await openFresh();
      await runAttempt(store, {
        id: 't1',
        runId: 'r1',
        environment: 'prod',
        gateway: 'warehouse',
        modelName: 'shop.orders',
        usage: { durationMs: HOUR_MS },
      });

      const replay = await completeTask(store, {
        taskId: 't1',
        owner: 'ex-a',
        epoch: 1,
        nowMs: T0 + 5_000,
        idempotencyKey: 't1-done',
        retry: RETRY,
        pricing: { usage: { durationMs: 10 * HOUR_MS }, rates: RATES },
        ...SUCCEEDED,
      });

      expect(replay.taskStatus).toBe('succeeded');
      const rows = await store.db.selectFrom('sluice_task_costs').selectAll().execute();
      expect(rows).toHaveLength(1);
      expect(Number(rows[0]?.cost)).toBeCloseTo(3.2, 10);
    });

    it('totals per model, run and environment, per currency, with unpriced attempts', async () => {
      const store = await openFresh();
      await seedAttempts(store);

      const byModel = await readCostTotals(store, 'model');
      const byRun = await readCostTotals(store, 'run');
      const byEnvironment = await readCostTotals(store, 'environment');

      expect(byModel).toEqual([
        {
          key: 'shop.events',
          costs: [{ currency: 'USD', amount: expect.closeTo(10, 10) }],
          attempts: 2,
          unpricedAttempts: 1,
          durationMs: 3_000,
          bytesScanned: 2e12,
          rowsWritten: 0,
        },
        {
          key: 'shop.orders',
          costs: [
            { currency: 'EUR', amount: expect.closeTo(2, 10) },
            { currency: 'USD', amount: expect.closeTo(1.6, 10) },
          ],
          attempts: 3,
          unpricedAttempts: 1,
          durationMs: HOUR_MS * 1.5 + 1_000,
          bytesScanned: 500,
          rowsWritten: 14,
        },
      ]);
      expect(byRun.map((total) => [total.key, total.attempts, total.unpricedAttempts])).toEqual([
        ['r1', 2, 0],
        ['r2', 3, 2],
      ]);
      expect(byRun[0]?.costs).toEqual([{ currency: 'USD', amount: expect.closeTo(11.6, 10) }]);
      expect(byEnvironment.map((total) => total.key)).toEqual(['dev', 'prod']);
      expect(byEnvironment[0]?.costs).toEqual([{ currency: 'EUR', amount: expect.closeTo(2, 10) }]);
    });

    it('totals one environment over a time range', async () => {
      const store = await openFresh();
      await seedAttempts(store);

      const dev = await readCostTotals(store, 'model', { environment: 'dev' });
      const early = await readCostTotals(store, 'run', { untilMs: T0 + HOUR_MS });
      const late = await readCostTotals(store, 'run', { sinceMs: T0 + 1 });

      expect(dev.map((total) => [total.key, total.attempts])).toEqual([
        ['shop.events', 1],
        ['shop.orders', 2],
      ]);
      expect(early.map((total) => total.key)).toEqual(['r1']);
      expect(late.map((total) => total.key)).toEqual(['r2']);
    });
  });
}
