import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createClient } from '../../../src/scheduler/auth/client-registry.js';
import { MANIFEST_SUFFIX } from '../../../src/state/backup/backup-manifest.js';
import { openStateStore } from '../../../src/state/open-state-store.js';
import type { StateStore } from '../../../src/state/state-store.js';
import { type SchedulerProcess, startSchedulerProcess } from '../../helpers/scheduler-process.js';
import { requestToken } from '../../helpers/scheduler-service.js';
import {
  stateBackendsUnderTest,
  type TestStateLocation,
  testKeyRing,
  testStateKey,
} from '../../helpers/state-backends.js';

/**
 * Two `sluice scheduler` processes on one PostgreSQL schema (the compiled CLI: build first),
 * each backing the state up every two seconds into a folder of its own: only the leader does,
 * and when it is killed the other takes over, as its /metrics and its backups show.
 */

/** The leader retry is 3 s by default; a takeover may take that, plus a busy machine's delays. */
const WAIT = { timeout: 30_000, interval: 250 };

type Replica = { readonly process: SchedulerProcess; readonly backupDir: string };

const postgres = stateBackendsUnderTest().find((backend) => backend.name === 'postgres');

describe.skipIf(postgres === undefined || postgres.skipReason !== '')(
  'leadership between two Scheduler processes on one PostgreSQL schema',
  () => {
    let location: TestStateLocation | undefined;
    let store: StateStore | undefined;
    let projectDir: string | undefined;
    let viewerSecret = '';
    const replicas: Replica[] = [];

    beforeAll(async () => {
      const key = testStateKey('k1');
      location = await postgres?.create();
      if (location?.location.backend !== 'postgres') throw new Error('no PostgreSQL location');
      store = await openStateStore({
        location: location.location,
        keyRing: testKeyRing(key),
        shouldMigrate: true,
      });
      viewerSecret = (
        await createClient(store, { clientId: 'watcher', roles: ['viewer'], actor: 'test' })
      ).secret;
      projectDir = await mkdtemp(join(tmpdir(), 'sluice-leaders-'));

      const stateUrl = new URL(location.location.url);
      stateUrl.searchParams.set('schema', location.location.schema);
      for (let index = 0; index < 2; index += 1) {
        const backupDir = await mkdtemp(join(tmpdir(), `sluice-leader-${index}-`));
        const process = await startSchedulerProcess({
          projectDir,
          stateUrl: stateUrl.href,
          stateKeys: `${key.id}:${key.secret.toString('base64')}`,
          extraArgs: ['--backup-dir', backupDir, '--backup-cron', '*/2 * * * * *'],
        });
        replicas.push({ process, backupDir });
      }
    }, 60_000);

    afterAll(async () => {
      for (const replica of replicas) {
        // Killed, not stopped: graceful shutdown is covered by the scheduler command's tests.
        await replica.process.kill('SIGKILL');
        await rm(replica.backupDir, { recursive: true, force: true });
      }
      await store?.close();
      await location?.cleanup();
      if (projectDir !== undefined) await rm(projectDir, { recursive: true, force: true });
    }, 60_000);

    /** The `sluice_scheduler_is_leader` value a replica's /metrics shows. */
    async function leaderGauge(replica: Replica): Promise<number> {
      const token = await requestToken(replica.process.url, 'watcher', viewerSecret, undefined);
      const response = await fetch(new URL('/metrics', replica.process.url), {
        headers: { authorization: `Bearer ${token}` },
      });
      const value = /^sluice_scheduler_is_leader (\d)$/m.exec(await response.text())?.[1];
      return Number(value);
    }

    async function backupsIn(replica: Replica): Promise<string[]> {
      return (await readdir(replica.backupDir)).filter((name) => name.endsWith(MANIFEST_SUFFIX));
    }

    it('lets one lead, and the other take over when the leader is killed', async () => {
      await vi.waitFor(async () => {
        const gauges = await Promise.all(replicas.map(leaderGauge));
        expect(gauges.sort()).toEqual([0, 1]);
      }, WAIT);
      const gauges = await Promise.all(replicas.map(leaderGauge));
      const leader = replicas[gauges.indexOf(1)];
      const follower = replicas[gauges.indexOf(0)];
      if (leader === undefined || follower === undefined) throw new Error('no leader found');
      await vi.waitFor(async () => expect(await backupsIn(leader)).not.toEqual([]), WAIT);
      expect(await backupsIn(follower)).toEqual([]);

      await leader.process.kill('SIGKILL');

      await vi.waitFor(async () => expect(await leaderGauge(follower)).toBe(1), WAIT);
      await vi.waitFor(async () => expect(await backupsIn(follower)).not.toEqual([]), WAIT);
      const lines = follower.process.logs.map(
        (text) => JSON.parse(text) as Record<string, unknown>,
      );
      expect(lines.filter((line) => line.msg === 'this Scheduler leads')).toHaveLength(1);
    }, 90_000);
  },
);
