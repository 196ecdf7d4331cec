import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createClient } from '../../../src/scheduler/auth/client-registry.js';
import { formatKeyRing } from '../../../src/state/crypto/key-ring.js';
import { openStateStore } from '../../../src/state/open-state-store.js';
import type { StateLocation } from '../../../src/state/state-types.js';
import { enqueueTasks } from '../../../src/state/tasks/enqueue-tasks.js';
import { connectProtocolClient, helloBody } from '../../helpers/protocol-client.js';
import { type SchedulerProcess, startSchedulerProcess } from '../../helpers/scheduler-process.js';
import { testKeyRing, testStateKey } from '../../helpers/state-backends.js';
import { runCli } from '../../helpers/temp-project.js';
import { queuedTask } from '../../state/tasks/queue-fixture.js';

/**
 * `sluice scheduler --cost-rates FILE` (the compiled CLI, as a child process): the rates in the
 * file price the attempts whose completions the service accepts; a bad file stops the command
 * before it starts, naming the field.
 */

const ring = testKeyRing(testStateKey('k1'));

describe('sluice scheduler --cost-rates', () => {
  let folder: string | undefined;
  let scheduler: SchedulerProcess | undefined;

  afterEach(async () => {
    await scheduler?.stop();
    scheduler = undefined;
    if (folder !== undefined) await rm(folder, { recursive: true, force: true });
    folder = undefined;
  });

  it('prices completed attempts with the rates of the file', async () => {
    folder = await mkdtemp(join(tmpdir(), 'sluice-cost-rates-'));
    const location: StateLocation = { backend: 'sqlite', path: join(folder, 'state.db') };
    const rates = join(folder, 'rates.yaml');
    await writeFile(rates, 'gateways:\n  warehouse: { per_compute_hour: 3.6, currency: USD }\n');
    const store = await openStateStore({ location, keyRing: ring, shouldMigrate: true });
    const runner = await createClient(store, {
      clientId: 'runner',
      roles: ['executor:run'],
      actor: 'test-setup',
    });
    await enqueueTasks(store, [queuedTask('t1', { gateway: 'warehouse' })], Date.now());
    await store.close();

    scheduler = await startSchedulerProcess({
      projectDir: folder,
      stateUrl: `sqlite://${location.path}`,
      stateKeys: formatKeyRing(ring),
      extraArgs: ['--cost-rates', rates],
    });
    const protocol = await connectProtocolClient(scheduler.url, 'runner', runner.secret);
    expect((await protocol.hello(helloBody('runner-1', ['run']))).status).toBe(200);
    const claim = await protocol.claim({ executor_id: 'runner-1', max_tasks: 1, wait_sec: 5 });
    const outcome = { status: 'succeeded', rows_written: 1, duration_ms: 1_800_000 };
    const body = { epoch: claim.body.tasks[0].epoch, outcome };
    expect((await protocol.complete('t1', body, 'done-1')).status).toBe(200);
    expect(await scheduler.stop()).toBe(0);
    scheduler = undefined;

    const reopened = await openStateStore({ location, keyRing: ring, shouldMigrate: false });
    const rows = await reopened.db.selectFrom('sluice_task_costs').selectAll().execute();
    await reopened.close();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ gateway: 'warehouse', currency: 'USD' });
    expect(Number(rows[0]?.cost)).toBeCloseTo(1.8, 10);
  });

  it('refuses to start with a rates file that names no rate, naming the field', async () => {
    folder = await mkdtemp(join(tmpdir(), 'sluice-cost-rates-'));
    const rates = join(folder, 'rates.yaml');
    await writeFile(rates, 'gateways:\n  lake: { currency: USD }\n');

    const result = await runCli('--project', folder, 'scheduler', '--cost-rates', rates);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain("Invalid value for 'gateways.lake'");
    expect(result.stderr).toContain('give exactly one of per_compute_hour or per_tb_scanned');
  });
});
