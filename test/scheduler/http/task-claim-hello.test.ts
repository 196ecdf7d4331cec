import { afterEach, describe, expect, it } from 'vitest';
import { enqueueTasks } from '../../../src/state/tasks/enqueue-tasks.js';
import { helloBody, startTestExecutor } from '../../helpers/protocol-client.js';
import { startTestScheduler, type TestScheduler } from '../../helpers/scheduler-service.js';
import { stateBackendsUnderTest } from '../../helpers/state-backends.js';
import { queuedTask } from '../../state/tasks/queue-fixture.js';

/**
 * The claim route remembers the hello it checked a claim against; a hello said again since, with
 * other slots or pools, is what the next claim is checked against.
 */

for (const backend of stateBackendsUnderTest()) {
  describe.skipIf(backend.skipReason !== '')(`claims after a new hello on ${backend.name}`, () => {
    let scheduler: TestScheduler | undefined;

    afterEach(async () => {
      await scheduler?.close();
      scheduler = undefined;
    });

    it('claims as many tasks as the slots of a hello said again allow', async () => {
      scheduler = await startTestScheduler(backend);
      const runner = await startTestExecutor(scheduler, 'runner', ['executor:run'], ['run']);
      const claimOf = (maxTasks: number) => ({
        executor_id: runner.executorId,
        max_tasks: maxTasks,
        wait_sec: 0,
      });
      expect((await runner.protocol.claim(claimOf(4))).status).toBe(204);

      const more = await runner.protocol.hello(helloBody(runner.executorId, ['run'], { slots: 8 }));
      expect(more.status).toBe(200);
      const ids = ['t1', 't2', 't3', 't4', 't5', 't6'];
      await enqueueTasks(
        scheduler.store,
        ids.map((id) => queuedTask(id)),
        Date.now(),
      );
      const claimed = await runner.protocol.claim(claimOf(6));

      expect(claimed.status).toBe(200);
      expect(claimed.body.tasks).toHaveLength(6);
    });

    it('refuses a claim beyond the slots of a hello said again with fewer', async () => {
      scheduler = await startTestScheduler(backend);
      const runner = await startTestExecutor(scheduler, 'runner', ['executor:run'], ['run']);
      const claim = { executor_id: runner.executorId, max_tasks: 4, wait_sec: 0 };
      expect((await runner.protocol.claim(claim)).status).toBe(204);

      await runner.protocol.hello(helloBody(runner.executorId, ['run'], { slots: 1 }));
      await enqueueTasks(scheduler.store, [queuedTask('t1')], Date.now());
      const refused = await runner.protocol.claim(claim);

      expect(refused.status).toBe(400);
      expect(refused.body.error.field).toBe('body.max_tasks');
      expect(refused.body.error.message).toContain('with 1 slots');
    });
  });
}
