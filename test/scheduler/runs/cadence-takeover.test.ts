import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { EngineAdapter } from '../../../src/engines/engine-adapter.js';
import { createClient } from '../../../src/scheduler/auth/client-registry.js';
import { openStateStore } from '../../../src/state/open-state-store.js';
import type { StateStore } from '../../../src/state/state-store.js';
import { DUCKDB_PROJECT_CONFIG, openProjectDuckDb, planBody } from '../../helpers/api-plans.js';
import { dailyOrdersModel } from '../../helpers/daily-orders.js';
import { type EngineExecutor, startEngineExecutor } from '../../helpers/engine-executor.js';
import { evaluatedIntervals } from '../../helpers/evaluated-intervals.js';
import { type SchedulerProcess, startSchedulerProcess } from '../../helpers/scheduler-process.js';
import { callApi, requestToken } from '../../helpers/scheduler-service.js';
import {
  stateBackendsUnderTest,
  type TestStateLocation,
  testKeyRing,
  testStateKey,
} from '../../helpers/state-backends.js';
import { writeProject } from '../../helpers/temp-project.js';

/**
 * Two `sluice scheduler` processes on one PostgreSQL schema (the compiled CLI: build first). The
 * leader's cadence run backfills a model; the leader is killed halfway, the other Scheduler takes
 * over: it marks the dead run abandoned (cancelling its waiting tasks), and its own catch-up run
 * evaluates what is left once the dead run's version lease has expired. No interval is
 * evaluated twice. The Executor is stopped for the kill and started again once the dead run is
 * abandoned: a task it held or claimed while the dead Scheduler's run was not yet abandoned would
 * be evaluated again (execution is at least once; see the README on abandoned runs).
 */

const DAYS = 20;
/** A takeover waits for the leader retry (3 s) and the run abandonment (6 s here). */
const WAIT = { timeout: 60_000, interval: 250 };

const postgres = stateBackendsUnderTest().find((backend) => backend.name === 'postgres');

describe.skipIf(postgres === undefined || postgres.skipReason !== '')(
  'the cadence when its leader dies, on PostgreSQL',
  () => {
    const schema = `r${randomBytes(4).toString('hex')}_shop`;
    let location: TestStateLocation | undefined;
    let store: StateStore;
    let root: string;
    let engine: EngineAdapter;
    const replicas: SchedulerProcess[] = [];
    let executor: EngineExecutor | undefined;
    const tokens = new Map<SchedulerProcess, string>();

    const follower = () => replicas[1] as SchedulerProcess;
    const startExecutor = (replica: SchedulerProcess, clientId: string) =>
      startEngineExecutor(
        {
          url: replica.url,
          store,
          tokenFor: (id, secret, scope) => requestToken(replica.url, id, secret, scope),
        },
        engine,
        clientId,
      );
    const isLeader = async (replica: SchedulerProcess) => {
      const metrics = await callApi(replica, '/metrics', { token: tokens.get(replica) });
      return /^sluice_scheduler_is_leader 1$/m.test(metrics.text);
    };
    const runsOf = async () =>
      (await callApi(follower(), '/v1/runs?environment=prod', { token: tokens.get(follower()) }))
        .json.runs as {
        id: string;
        kind: string;
        status: string;
        requested_by: string;
      }[];

    beforeAll(async () => {
      const key = testStateKey('k1');
      location = await postgres?.create();
      if (location?.location.backend !== 'postgres') throw new Error('no PostgreSQL location');
      store = await openStateStore({
        location: location.location,
        keyRing: testKeyRing(key),
        shouldMigrate: true,
      });
      const deployer = await createClient(store, {
        clientId: 'deployer',
        roles: ['deployer'],
        actor: 'test',
      });
      root = await writeProject({
        'sluice.yaml': DUCKDB_PROJECT_CONFIG,
        'models/orders.sql': dailyOrdersModel({
          schema,
          batchSize: 1,
          end: `2024-01-${DAYS}`,
          amount: '1',
        }),
      });
      engine = await openProjectDuckDb(root);

      const stateUrl = new URL(location.location.url);
      stateUrl.searchParams.set('schema', location.location.schema);
      for (let index = 0; index < 2; index += 1) {
        replicas.push(
          await startSchedulerProcess({
            projectDir: root,
            stateUrl: stateUrl.href,
            stateKeys: `${key.id}:${key.secret.toString('base64')}`,
            extraArgs: ['--run-abandon-after', '6 seconds', '--cadence-max-sleep', '1 second'],
          }),
        );
        const replica = replicas[index] as SchedulerProcess;
        tokens.set(
          replica,
          await requestToken(replica.url, 'deployer', deployer.secret, undefined),
        );
        if (index === 0) {
          await vi.waitFor(
            async () => expect(await isLeader(replicas[0] as SchedulerProcess)).toBe(true),
            WAIT,
          );
        }
      }
    }, 60_000);

    afterAll(async () => {
      await executor?.stop();
      for (const replica of replicas) await replica.kill('SIGKILL');
      await engine?.close();
      await store?.close();
      await location?.cleanup();
      await rm(root, { recursive: true, force: true });
    }, 60_000);

    it('takes the cadence over when its leader dies, evaluating no interval twice', async () => {
      const [leader] = replicas as [SchedulerProcess, SchedulerProcess];
      const token = tokens.get(follower());
      expect(await isLeader(follower())).toBe(false);
      executor = await startExecutor(follower(), 'executor-a');

      // Promoted without its backfill: the leader's cadence asks for the model at once.
      const planned = await callApi(follower(), '/v1/environments/prod/plans', {
        token,
        json: await planBody(root, 'prod', { shouldSkipBackfill: true }),
      });
      await callApi(follower(), `/v1/environments/prod/plans/${planned.json.plan.id}/apply`, {
        token,
        json: {},
      });

      // Halfway through the leader's cadence run, the Executor stops and the leader is killed
      // once it has recorded what was done.
      await vi.waitFor(async () => {
        const done = [...(await evaluatedIntervals(store)).values()].length;
        expect(done).toBeGreaterThanOrEqual(DAYS / 4);
      }, WAIT);
      await executor.stop();
      const cadence = (await runsOf()).find((run) => run.kind === 'cadence');
      expect(cadence?.status).toBe('running');
      await vi.waitFor(async () => {
        const ranges = await store.db
          .selectFrom('sluice_intervals')
          .select(['start_ms', 'end_ms'])
          .execute();
        const recordedDays = ranges.reduce(
          (days, row) => days + (Number(row.end_ms) - Number(row.start_ms)) / 86_400_000,
          0,
        );
        expect(recordedDays).toBe([...(await evaluatedIntervals(store)).values()].length);
      }, WAIT);
      await leader.kill('SIGKILL');

      await vi.waitFor(async () => expect(await isLeader(follower())).toBe(true), WAIT);
      await vi.waitFor(
        async () =>
          expect((await runsOf()).find((run) => run.id === cadence?.id)?.status).toBe('abandoned'),
        WAIT,
      );
      executor = await startExecutor(follower(), 'executor-b');
      await vi.waitFor(async () => {
        const runs = await runsOf();
        const taken = runs.filter((run) => run.kind === 'cadence' && run.id !== cadence?.id);
        expect(taken.some((run) => run.status === 'succeeded')).toBe(true);
      }, WAIT);

      const counts = [...(await evaluatedIntervals(store)).values()];
      expect(counts).toHaveLength(DAYS);
      expect(counts.every((count) => count === 1)).toBe(true);
      const rows = await engine.query(`SELECT COUNT(*) AS days FROM ${schema}.orders`);
      expect(Number(rows.rows[0]?.days)).toBe(DAYS);
    }, 180_000);
  },
);
