import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  callApi,
  createTestClient,
  startTestScheduler,
  type TestScheduler,
} from '../../helpers/scheduler-service.js';
import { stateBackendsUnderTest } from '../../helpers/state-backends.js';

for (const backend of stateBackendsUnderTest()) {
  describe.skipIf(backend.skipReason !== '')(`GET /v1/whoami on ${backend.name}`, () => {
    let scheduler: TestScheduler;

    beforeAll(async () => {
      scheduler = await startTestScheduler(backend);
    });

    afterAll(async () => {
      await scheduler?.close();
    });

    it('tells any valid token which client and roles it stands for', async () => {
      const runner = await createTestClient(scheduler, 'runner-1', ['executor:run']);
      const answer = await callApi(scheduler, '/v1/whoami', { token: runner.token });

      expect(answer.status).toBe(200);
      expect(answer.json).toMatchObject({ client_id: 'runner-1', roles: ['executor:run'] });
      const expiresAtMs = Date.parse(
        String((answer.json as Record<string, unknown>).token_expires_at),
      );
      expect(expiresAtMs).toBeGreaterThan(Date.now());
    });

    it('refuses a caller without a token', async () => {
      const answer = await callApi(scheduler, '/v1/whoami', {});
      expect(answer.status).toBe(401);
    });

    it('is documented as needing a token but no permission', async () => {
      const document = (await callApi(scheduler, '/openapi.json', {})).json as {
        paths: Record<string, { get: Record<string, unknown> }>;
      };
      const operation = document.paths['/v1/whoami']?.get;
      expect(operation?.security).toEqual([{ bearer: [] }]);
      expect(operation).not.toHaveProperty('x-sluice-permission');
    });
  });
}
