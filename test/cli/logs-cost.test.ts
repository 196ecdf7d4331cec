import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { formatKeyRing } from '../../src/state/crypto/key-ring.js';
import type { StateStore } from '../../src/state/state-store.js';
import type { CostRates } from '../../src/state/tasks/attempt-pricing.js';
import { claimTasks } from '../../src/state/tasks/claim-tasks.js';
import { completeTask } from '../../src/state/tasks/complete-task.js';
import { enqueueTasks } from '../../src/state/tasks/enqueue-tasks.js';
import { appendTaskLogs, type TaskLogLine } from '../../src/state/tasks/task-logs.js';
import {
  createTestClient,
  startTestScheduler,
  type TestClient,
  type TestScheduler,
} from '../helpers/scheduler-service.js';
import { stateBackendsUnderTest } from '../helpers/state-backends.js';
import { stateUrlOf } from '../helpers/state-url.js';
import { type CliResult, runCli } from '../helpers/temp-project.js';
import { queuedTask, RETRY, SUCCEEDED } from '../state/tasks/queue-fixture.js';

/**
 * `sluice logs` and `sluice cost` print the same through a real Scheduler on loopback (SLUICE_URL
 * and a viewer's credentials) as on its state store directly (no SLUICE_URL).
 */

const T0 = Date.UTC(2027, 0, 15, 12);
const HOUR_MS = 3_600_000;
const RATES: CostRates = new Map([
  ['warehouse', { kind: 'per_compute_hour', amount: 3.2, currency: 'USD' }],
]);

/** Works one task through the state store: claim, logs, and a priced successful completion. */
async function workTask(
  store: StateStore,
  id: string,
  options: { gateway: string; modelName: string; durationMs: number; nowMs: number },
  lines: readonly TaskLogLine[],
): Promise<void> {
  const task = queuedTask(id, { runId: 'run-1', environment: 'prod', ...options });
  await enqueueTasks(store, [task], options.nowMs);
  const call = { taskId: id, owner: 'ex-a', epoch: 1, nowMs: options.nowMs };
  await claimTasks(store, {
    owner: 'ex-a',
    executorId: 'ex-a-1',
    pools: ['run'],
    maxTasks: 1,
    nowMs: options.nowMs,
    leaseMs: 60_000,
  });
  await appendTaskLogs(store, { ...call, seq: 1, lines });
  await completeTask(store, {
    ...call,
    idempotencyKey: `${id}-done`,
    retry: RETRY,
    pricing: { usage: { durationMs: options.durationMs, rowsWritten: 3 }, rates: RATES },
    ...SUCCEEDED,
  });
}

async function seed(store: StateStore): Promise<void> {
  const at = (offsetMs: number) => T0 + offsetMs;
  await workTask(
    store,
    't1',
    { gateway: 'warehouse', modelName: 'shop.orders', durationMs: HOUR_MS / 2, nowMs: at(0) },
    [
      { atMs: at(1), level: 'info', message: 'starting shop.orders' },
      { atMs: at(2), level: 'warn', message: 'Engine slow:\nscan took 40 s' },
      { atMs: at(3), level: 'info', message: 'wrote 12 rows \u001b[31mred\u001b[0m' },
    ],
  );
  await workTask(
    store,
    't2',
    { gateway: 'local', modelName: 'shop.events', durationMs: 2_000, nowMs: at(1_000) },
    [{ atMs: at(1_001), level: 'error', message: 'engine error in shop.events' }],
  );
}

for (const backend of stateBackendsUnderTest()) {
  describe.skipIf(backend.skipReason !== '')(`sluice logs and cost on ${backend.name}`, () => {
    let scheduler: TestScheduler;
    let viewer: TestClient;
    let projectDir: string;

    beforeAll(async () => {
      scheduler = await startTestScheduler(backend);
      viewer = await createTestClient(scheduler, 'viewer-1', ['viewer']);
      projectDir = await mkdtemp(join(tmpdir(), 'sluice-logs-cost-'));
      await seed(scheduler.store);
    });

    afterAll(async () => {
      await scheduler?.close();
      await rm(projectDir, { recursive: true, force: true });
    });

    afterEach(() => vi.unstubAllEnvs());

    async function remote(...args: string[]): Promise<CliResult> {
      vi.stubEnv('SLUICE_URL', scheduler.url);
      vi.stubEnv('SLUICE_CLIENT_ID', viewer.clientId);
      vi.stubEnv('SLUICE_CLIENT_SECRET', viewer.secret);
      return runCli('--project', projectDir, ...args);
    }

    async function local(...args: string[]): Promise<CliResult> {
      vi.stubEnv('SLUICE_URL', '');
      vi.stubEnv('SLUICE_STATE_KEYS', formatKeyRing(scheduler.store.keyRing));
      const state = stateUrlOf(scheduler.store.location);
      return runCli('--project', projectDir, ...args, '--state', state);
    }

    /** Runs the command both ways, checks that both print the same, and returns the output. */
    async function both(...args: string[]): Promise<CliResult> {
      const throughApi = await remote(...args);
      const onStore = await local(...args);
      expect(onStore).toEqual(throughApi);
      return throughApi;
    }

    it("prints a task's lines for people, escaping control characters", async () => {
      const result = await both('logs', '--task', 't1');

      expect(result.code).toBe(0);
      expect(result.stdout).toBe(
        '2027-01-15T12:00:00.001Z  INFO   t1#1  starting shop.orders\n' +
          '2027-01-15T12:00:00.002Z  WARN   t1#1  Engine slow:\n    scan took 40 s\n' +
          '2027-01-15T12:00:00.003Z  INFO   t1#1  wrote 12 rows \\u001b[31mred\\u001b[0m\n',
      );
    });

    it("filters a run's lines by level and text and prints JSON", async () => {
      const result = await both('logs', '--run', 'run-1', '--level', 'warn', '--grep', 'ENGINE');

      expect(result.stdout.split('\n').filter(Boolean)).toHaveLength(3);
      const json = await both('logs', '--run', 'run-1', '--grep', 'engine', '--format', 'json');
      expect(JSON.parse(json.stdout)).toEqual({
        lines: [
          expect.objectContaining({ task_id: 't1', level: 'warn' }),
          expect.objectContaining({ task_id: 't2', level: 'error' }),
        ],
        next: null,
      });
    });

    it('stops at --limit and says how to continue', async () => {
      const first = await both('logs', '--task', 't1', '--newest', '--limit', '1');
      const after = /--after (\S+)/.exec(first.stderr)?.[1] ?? '';
      const rest = await both('logs', '--task', 't1', '--newest', '--after', after);

      expect(first.stdout).toContain('wrote 12 rows');
      expect(first.stderr).toMatch(/^More lines may follow: add --after \S+$/m);
      expect(rest.stdout.split('\n').filter((line) => line.includes('t1#1'))).toHaveLength(2);
      expect(rest.stderr).toBe('');
    });

    it('prints cost per model, per run, and for one environment', async () => {
      const byModel = await both('cost');
      const byRun = await both('cost', '--by', 'run', '--format', 'json');
      const prod = await both('cost', '--environment', 'prod');

      expect(byModel.stdout).toBe(
        'model            cost  attempts  unpriced  duration  scanned  rows\n' +
          'shop.events         -         1         1      2.0s        -     3\n' +
          'shop.orders  1.60 USD         1         0   30m 00s        -     3\n',
      );
      expect(JSON.parse(byRun.stdout)).toMatchObject({
        group_by: 'run',
        totals: [{ key: 'run-1', attempts: 2, unpriced_attempts: 1 }],
      });
      expect(prod.stdout).toContain('Environment prod: 1.60 USD over 2 attempts, 1 unpriced\n');
      expect(prod.stdout).toContain('Avoided by reusing versions: - (0 versions built by other');
    });

    it('prints the same error either way for a task that does not exist', async () => {
      const result = await both('logs', '--task', 'nope');

      expect(result.code).toBe(1);
      expect(result.stderr).toBe("error: No task 'nope' is queued\n");
    });
  });
}
