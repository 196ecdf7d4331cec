import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { formatKeyRing } from '../../src/state/crypto/key-ring.js';
import { recordPromotion } from '../../src/state/environment-store.js';
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
 * `sluice environments cadence`, `sluice pause` and `sluice resume`, on the state store itself
 * and through a Scheduler on loopback: the same commands print the same.
 */

const ring = testKeyRing(testStateKey('k1'));
const WEEK_MS = 7 * 24 * 3600 * 1000;

/** The commands run both ways, each with its output. */
const COMMANDS: readonly (readonly string[])[] = [
  ['environments', 'cadence', 'dev', 'on'],
  ['environments', 'cadence', 'dev', 'on'],
  ['environments', 'cadence', 'prod', 'off'],
  ['pause', 'dev'],
  ['pause', 'dev'],
  ['pause', 'prod', 'shop.orders'],
  ['pause', 'prod', 'shop.missing'],
  ['resume', 'prod', 'shop.orders'],
  ['resume', 'prod', 'shop.orders'],
  ['resume', 'dev'],
  ['environments', 'cadence', 'dev', 'off'],
  ['pause', 'nowhere'],
];

async function promoteBoth(store: StateStore): Promise<void> {
  for (const [name, ttlMs] of [
    ['prod', undefined],
    ['dev', WEEK_MS],
  ] as const) {
    await recordPromotion(store, {
      name,
      baseRevision: 0,
      snapshotIds: { 'shop.orders': `orders-${name}` },
      planId: undefined,
      ttlMs,
      now: new Date(),
    });
  }
}

for (const backend of stateBackendsUnderTest()) {
  describe.skipIf(backend.skipReason !== '')(`cadence settings commands on ${backend.name}`, () => {
    let projectDir: string | undefined;
    let location: TestStateLocation | undefined;
    let scheduler: TestScheduler | undefined;

    afterEach(async () => {
      vi.unstubAllEnvs();
      await scheduler?.close();
      await location?.cleanup();
      if (projectDir !== undefined) await rm(projectDir, { recursive: true, force: true });
      scheduler = undefined;
      location = undefined;
    });

    async function runAll(extra: readonly string[]): Promise<CliResult[]> {
      const results: CliResult[] = [];
      for (const command of COMMANDS) {
        results.push(await runCli('--project', projectDir ?? '.', ...command, ...extra));
      }
      return results;
    }

    async function runLocally(): Promise<CliResult[]> {
      location = await backend.create();
      const store = await openStateStore({
        location: location.location,
        keyRing: ring,
        shouldMigrate: true,
      });
      await promoteBoth(store);
      await store.close();
      vi.stubEnv('SLUICE_STATE_KEYS', formatKeyRing(ring));
      vi.stubEnv('SLUICE_URL', '');
      return runAll(['--state', stateUrlOf(location.location)]);
    }

    async function runRemotely(): Promise<CliResult[]> {
      scheduler = await startTestScheduler(backend);
      await promoteBoth(scheduler.store);
      vi.stubEnv('SLUICE_URL', scheduler.url);
      vi.stubEnv('SLUICE_CLIENT_ID', scheduler.admin.clientId);
      vi.stubEnv('SLUICE_CLIENT_SECRET', scheduler.admin.secret);
      return runAll([]);
    }

    it('prints the same on the state store and through the Scheduler', async () => {
      projectDir = await mkdtemp(join(tmpdir(), 'sluice-settings-'));

      const local = await runLocally();
      vi.unstubAllEnvs();
      const remote = await runRemotely();

      expect(remote).toEqual(local);
      expect(local.map((result) => `${result.code} ${result.stdout}${result.stderr}`)).toEqual([
        "0 Environment 'dev' now runs on its models' crons.\n",
        "0 Environment 'dev' already runs on its models' crons.\n",
        "1 error: prod always runs on its models' crons; to stop its runs, pause it with " +
          "'sluice pause prod'\n",
        "0 Paused environment 'dev': the cadence starts no runs in it until 'sluice resume dev'.\n",
        "0 Environment 'dev' was already paused.\n",
        "0 Paused model 'shop.orders' in 'prod': the cadence leaves it and its downstream " +
          "models out until 'sluice resume prod shop.orders'.\n",
        "1 error: Environment 'prod' has no model 'shop.missing'; give a model's full name as " +
          "'sluice dag' prints it, such as 'shop.orders'\n",
        "0 Resumed model 'shop.orders' in 'prod'.\n",
        "0 The model 'shop.orders' in 'prod' was not paused.\n",
        "0 Resumed environment 'dev': its models run on their crons again.\n",
        "0 Environment 'dev' no longer runs on its models' crons.\n",
        "1 error: Environment 'nowhere' does not exist; create it with 'sluice plan nowhere'\n",
      ]);
    });
  });
}
