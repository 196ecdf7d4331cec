import { pino } from 'pino';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Snapshot } from '../../../src/core/snapshot.js';
import { loadProject } from '../../../src/project/project-loader.js';
import { snapshotsOfProject } from '../../../src/project/project-snapshots.js';
import {
  type CadenceLoop,
  type CadenceSleep,
  startCadenceLoop,
} from '../../../src/scheduler/cadence/cadence-loop.js';
import type {
  CadenceRunRequest,
  CadenceRunStarter,
} from '../../../src/scheduler/cadence/cadence-run.js';
import {
  pauseModel,
  resumeModel,
  setEnvironmentCadence,
  setEnvironmentPaused,
} from '../../../src/state/environment-settings.js';
import { recordPromotion } from '../../../src/state/environment-store.js';
import { saveSnapshots } from '../../../src/state/snapshot-store.js';
import type { StateStore } from '../../../src/state/state-store.js';
import { freshStores } from '../../helpers/fresh-store.js';
import { manualClock } from '../../helpers/manual-clock.js';
import { stateBackendsUnderTest, testKeyRing, testStateKey } from '../../helpers/state-backends.js';
import { writeProject } from '../../helpers/temp-project.js';

/**
 * The cadence loop on a clock the test moves, with a starter that records what it is asked: the
 * loop sleeps until the next cron tick, and the test wakes it there (or later, as a loop that
 * slept past several ticks would wake).
 */

const ring = testKeyRing(testStateKey('k1'));
const WEEK_MS = 7 * 86_400_000;
const SILENT = pino({ level: 'silent' });
/** Longer than any gap between ticks here, so that the loop wakes only on ticks. */
const MAX_SLEEP_MS = 2 * 86_400_000;

/** Monday 2024-01-15 00:10 UTC. */
const START_MS = Date.UTC(2024, 0, 15, 0, 10);
const at = (day: number, hour: number, minute = 0) => Date.UTC(2024, 0, day, hour, minute);

const full = (name: string, cron: string, reads = 'raw.orders', extra = '') =>
  `MODEL (name shop.${name}, kind FULL, cron '${cron}'${extra});\nSELECT 1 AS id FROM ${reads}\n`;

const PROJECT = {
  'sluice.yaml': "name: shop\nmodel_defaults:\n  start: '2024-01-01'\n",
  'models/orders.sql': full('orders', '@hourly'),
  'models/daily_revenue.sql': full('daily_revenue', '@daily', 'shop.orders'),
  'models/report.sql': full('report', '@daily', 'shop.daily_revenue'),
  'models/half.sql': full('half', '*/30 * * * *'),
  'models/berlin.sql': full('berlin', '0 6 * * *', 'raw.orders', ", cron_tz 'Europe/Berlin'"),
  'models/orders_view.sql':
    'MODEL (name shop.orders_view, kind VIEW);\nSELECT * FROM shop.orders\n',
};

const EVERY_MODEL = [
  'shop.berlin',
  'shop.daily_revenue',
  'shop.half',
  'shop.orders',
  'shop.report',
];

/** A sleep the test ends by moving the clock, and a way to wait until the loop sleeps. */
function steppedClock(startMs: number) {
  const clock = manualClock(startMs);
  const nowMs = () => clock.now().getTime();
  let sleeper: { readonly untilMs: number; wake(): void } | undefined;
  let onSleep: (() => void) | undefined;

  const sleep: CadenceSleep = (ms, signal) =>
    new Promise<void>((resolve) => {
      sleeper = { untilMs: nowMs() + ms, wake: resolve };
      signal.addEventListener('abort', () => resolve(), { once: true });
      onSleep?.();
    });

  /** Waits until the loop sleeps, and says until when it asked to. */
  const asleep = async (): Promise<number> => {
    if (sleeper === undefined) await new Promise<void>((resolve) => (onSleep = resolve));
    onSleep = undefined;
    if (sleeper === undefined) throw new Error('the loop did not sleep');
    return sleeper.untilMs;
  };

  /** Moves the clock to `toMs` (by default the wake-up asked for), wakes the loop, waits. */
  const wake = async (toMs?: number): Promise<void> => {
    const current = sleeper;
    if (current === undefined) throw new Error('the loop is not asleep');
    clock.advance((toMs ?? current.untilMs) - nowMs());
    sleeper = undefined;
    current.wake();
    await asleep();
  };
  return { nowMs, sleep, asleep, wake };
}

for (const backend of stateBackendsUnderTest()) {
  describe.skipIf(backend.skipReason !== '')(`the cadence loop on ${backend.name}`, () => {
    const openStore = freshStores(backend, ring);
    let snapshots: Snapshot[];
    let loop: CadenceLoop | undefined;

    beforeAll(async () => {
      const project = await loadProject(await writeProject(PROJECT));
      snapshots = [...(await snapshotsOfProject(project, undefined)).values()];
    });

    afterEach(async () => {
      await loop?.stop();
      loop = undefined;
    });

    /** A store holding prod and dev, both at the project's snapshots. */
    async function storeWithEnvironments(): Promise<StateStore> {
      const store = await openStore();
      await saveSnapshots(store, snapshots);
      const snapshotIds = Object.fromEntries(snapshots.map((each) => [each.name, each.id]));
      for (const [name, ttlMs] of [
        ['prod', undefined],
        ['dev', WEEK_MS],
      ] as const) {
        const now = new Date();
        await recordPromotion(store, {
          name,
          baseRevision: 0,
          snapshotIds,
          planId: undefined,
          ttlMs,
          now,
        });
      }
      return store;
    }

    function start(store: StateStore, starter: CadenceRunStarter, clock = steppedClock(START_MS)) {
      loop = startCadenceLoop({
        store,
        logger: SILENT,
        starter,
        now: clock.nowMs,
        sleep: clock.sleep,
        maxSleepMs: MAX_SLEEP_MS,
      });
      return clock;
    }

    function recorder() {
      const requests: CadenceRunRequest[] = [];
      const starter: CadenceRunStarter = async (request) => {
        requests.push(request);
      };
      /** The requests made since the last call. */
      const taken = () => requests.splice(0);
      return { starter, taken };
    }

    it('asks at once for every model of prod, then for each model at its own ticks', async () => {
      const store = await storeWithEnvironments();
      const runs = recorder();
      const clock = start(store, runs.starter);

      expect(await clock.asleep()).toBe(at(15, 0, 30));
      expect(runs.taken()).toEqual([
        { environment: 'prod', modelNames: EVERY_MODEL, nowMs: START_MS },
      ]);

      await clock.wake();
      expect(runs.taken()).toEqual([
        { environment: 'prod', modelNames: ['shop.half'], nowMs: at(15, 0, 30) },
      ]);
      await clock.wake();
      expect(runs.taken()).toEqual([
        { environment: 'prod', modelNames: ['shop.half', 'shop.orders'], nowMs: at(15, 1) },
      ]);

      // Woken late, past several ticks: one request for every model that ticked meanwhile.
      await clock.wake(at(15, 5, 10));
      expect(runs.taken()).toEqual([
        {
          environment: 'prod',
          modelNames: ['shop.berlin', 'shop.half', 'shop.orders'],
          nowMs: at(15, 5),
        },
      ]);
      await clock.wake(at(16, 0));
      expect(runs.taken()).toEqual([
        {
          environment: 'prod',
          modelNames: ['shop.daily_revenue', 'shop.half', 'shop.orders', 'shop.report'],
          nowMs: at(16, 0),
        },
      ]);
    });

    it('leaves out paused models with their downstream models, and paused environments, until resumed', async () => {
      const store = await storeWithEnvironments();
      const by = { actor: 'test', nowMs: START_MS };
      await pauseModel(store, 'prod', 'shop.daily_revenue', by);
      await setEnvironmentCadence(store, 'dev', true, by);
      await setEnvironmentPaused(store, 'dev', true, by);
      const runs = recorder();
      const clock = start(store, runs.starter);

      await clock.asleep();
      expect(runs.taken()).toEqual([
        {
          environment: 'prod',
          modelNames: ['shop.berlin', 'shop.half', 'shop.orders'],
          nowMs: START_MS,
        },
      ]);
      await clock.wake(at(16, 0));
      expect(runs.taken()).toEqual([
        {
          environment: 'prod',
          modelNames: ['shop.berlin', 'shop.half', 'shop.orders'],
          nowMs: at(16, 0),
        },
      ]);

      await resumeModel(store, 'prod', 'shop.daily_revenue', by);
      await clock.wake(at(16, 0, 10));
      expect(runs.taken()).toEqual([
        {
          environment: 'prod',
          modelNames: ['shop.daily_revenue', 'shop.report'],
          nowMs: at(16, 0, 10),
        },
      ]);

      await setEnvironmentPaused(store, 'prod', true, by);
      await clock.wake(at(16, 1));
      expect(runs.taken()).toEqual([]);
    });

    it('runs a development environment only once it opted in, catching it up then', async () => {
      const store = await storeWithEnvironments();
      const runs = recorder();
      const clock = start(store, runs.starter);
      await clock.asleep();
      expect(runs.taken().map((request) => request.environment)).toEqual(['prod']);

      await setEnvironmentCadence(store, 'dev', true, { actor: 'test', nowMs: START_MS });
      await clock.wake();

      // Entering the cadence, dev is caught up at once, as prod was when the loop started.
      expect(runs.taken()).toEqual([
        { environment: 'dev', modelNames: EVERY_MODEL, nowMs: at(15, 0, 30) },
        { environment: 'prod', modelNames: ['shop.half'], nowMs: at(15, 0, 30) },
      ]);
      await clock.wake();
      expect(runs.taken()).toEqual([
        { environment: 'dev', modelNames: ['shop.half', 'shop.orders'], nowMs: at(15, 1) },
        { environment: 'prod', modelNames: ['shop.half', 'shop.orders'], nowMs: at(15, 1) },
      ]);
    });

    it('sleeps no longer than its longest sleep, so that new settings are seen soon', async () => {
      const store = await storeWithEnvironments();
      const clock = steppedClock(START_MS);
      const runs = recorder();
      loop = startCadenceLoop({
        store,
        logger: SILENT,
        starter: runs.starter,
        now: clock.nowMs,
        sleep: clock.sleep,
        maxSleepMs: 60_000,
      });

      expect(await clock.asleep()).toBe(at(15, 0, 11));
      await clock.wake();

      expect(runs.taken().map((request) => request.nowMs)).toEqual([START_MS]);
      expect(await clock.asleep()).toBe(at(15, 0, 12));
    });

    it('logs a starter that fails and asks again at the next tick', async () => {
      const store = await storeWithEnvironments();
      const logs: Record<string, unknown>[] = [];
      const logger = pino(
        { level: 'info' },
        { write: (line: string) => logs.push(JSON.parse(line)) },
      );
      const asked: number[] = [];
      const clock = steppedClock(START_MS);
      loop = startCadenceLoop({
        store,
        logger,
        now: clock.nowMs,
        sleep: clock.sleep,
        maxSleepMs: MAX_SLEEP_MS,
        starter: async (request) => {
          asked.push(request.nowMs);
          if (asked.length === 1) throw new Error('the run service is busy');
        },
      });

      await clock.asleep();
      await clock.wake();

      expect(asked).toEqual([START_MS, at(15, 0, 30)]);
      const failure = logs.find((line) => line.msg === 'cadence run not started');
      expect(failure).toMatchObject({
        level: 50,
        component: 'cadence',
        environment: 'prod',
        error: 'the run service is busy',
      });
    });
  });
}
