import Fastify from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { answerFor, sendErrorAnswer } from '../../../src/scheduler/http/api-errors.js';
import {
  zodSerializerCompiler,
  zodValidatorCompiler,
} from '../../../src/scheduler/http/zod-compilers.js';
import {
  callApi,
  startTestScheduler,
  type TestScheduler,
} from '../../helpers/scheduler-service.js';
import { stateBackendsUnderTest } from '../../helpers/state-backends.js';

const BODY_LIMIT_BYTES = 4096;

for (const backend of stateBackendsUnderTest()) {
  describe.skipIf(backend.skipReason !== '')(`request validation on ${backend.name}`, () => {
    let scheduler: TestScheduler;
    let token: string;

    beforeAll(async () => {
      scheduler = await startTestScheduler(backend, { bodyLimitBytes: BODY_LIMIT_BYTES });
      token = await scheduler.tokenFor(scheduler.admin.clientId, scheduler.admin.secret);
    });

    afterAll(async () => {
      await scheduler?.close();
    });

    const createClient = (json: unknown) => callApi(scheduler, '/v1/clients', { token, json });

    it('rejects an unknown body field with 400, naming it, instead of dropping it', async () => {
      const answer = await createClient({ client_id: 'ci', roles: ['viewer'], admin: true });
      expect(answer.status).toBe(400);
      expect(answer.json.error).toEqual({
        code: 'request_invalid',
        message: expect.stringContaining("'body.admin' is not part of this API"),
        field: 'body.admin',
      });
      const list = await callApi(scheduler, '/v1/clients', { token });
      expect(
        list.json.clients.map((client: { client_id: string }) => client.client_id),
      ).not.toContain('ci');
    });

    it('rejects a value of the wrong type, naming the field and what is expected', async () => {
      const answer = await createClient({ client_id: 'ci', roles: ['viewer', 7] });
      expect(answer.status).toBe(400);
      expect(answer.json.error.field).toBe('body.roles[1]');
      expect(answer.json.error.message).toContain("'body.roles[1]' is invalid");
      expect(answer.json.error.message).toContain('viewer');
    });

    it('rejects an unknown role by name of the field', async () => {
      const answer = await createClient({ client_id: 'ci', roles: ['root'] });
      expect(answer.status).toBe(400);
      expect(answer.json.error.field).toBe('body.roles[0]');
    });

    it('says which field is missing', async () => {
      const answer = await createClient({ roles: ['viewer'] });
      expect(answer.status).toBe(400);
      expect(answer.json.error.field).toBe('body.client_id');
      expect(answer.json.error.message).toBe(
        "The request field 'body.client_id' is missing; give a string",
      );
    });

    it('rejects a client id that breaks the pattern, saying what it must look like', async () => {
      const answer = await createClient({ client_id: 'Has Spaces', roles: ['viewer'] });
      expect(answer.status).toBe(400);
      expect(answer.json.error.field).toBe('body.client_id');
      expect(answer.json.error.message).toContain('1-64 characters');
      expect(answer.text).not.toContain('Has Spaces');
    });

    it('rejects a body that is not an object', async () => {
      const answer = await createClient(['ci']);
      expect(answer.status).toBe(400);
      expect(answer.json.error.field).toBe('body');
    });

    it('answers malformed JSON with 400 saying so', async () => {
      const answer = await callApi(scheduler, '/v1/clients', {
        token,
        body: '{"client_id": "ci", ',
        headers: { 'content-type': 'application/json' },
      });
      expect(answer.status).toBe(400);
      expect(answer.json.error).toEqual({
        code: 'request_invalid',
        message: 'The request body is not valid JSON',
        field: 'body',
      });
    });

    it('answers a body of another media type with 415', async () => {
      const answer = await callApi(scheduler, '/v1/clients', {
        token,
        body: 'client_id=ci&roles=viewer',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect(answer.status).toBe(415);
      expect(answer.json.error.message).toContain('application/json');

      const text = await callApi(scheduler, '/v1/clients', {
        token,
        body: 'hello',
        headers: { 'content-type': 'text/plain' },
      });
      expect(text.status).toBe(415);
    });

    it('answers a body over the limit with 413 naming the limit', async () => {
      const answer = await createClient({
        client_id: 'ci',
        roles: ['viewer'],
        pad: 'x'.repeat(5000),
      });
      expect(answer.status).toBe(413);
      expect(answer.json.error.message).toContain(`${BODY_LIMIT_BYTES} bytes`);
    });

    it('rejects an unknown query parameter and a query value of the wrong type', async () => {
      const unknown = await callApi(scheduler, '/v1/clients?verbose=1', { token });
      expect(unknown.status).toBe(400);
      expect(unknown.json.error.field).toBe('query.verbose');

      const wrongType = await callApi(scheduler, '/v1/audit-log?limit=many', { token });
      expect(wrongType.status).toBe(400);
      expect(wrongType.json.error.field).toBe('query.limit');

      const outOfRange = await callApi(scheduler, '/v1/audit-log?limit=5000', { token });
      expect(outOfRange.status).toBe(400);
      expect(outOfRange.json.error.field).toBe('query.limit');
    });

    it('rejects a path parameter that breaks its pattern', async () => {
      const answer = await callApi(scheduler, '/v1/clients/UPPER/revoke', { token, json: {} });
      expect(answer.status).toBe(400);
      expect(answer.json.error.field).toBe('params.client_id');
    });

    it('rejects fields sent to a POST that takes none', async () => {
      const answer = await callApi(scheduler, `/v1/clients/${scheduler.admin.clientId}/revoke`, {
        token,
        json: { reason: 'testing' },
      });
      expect(answer.status).toBe(400);
      expect(answer.json.error.field).toBe('body.reason');
    });
  });
}

describe('response checking', () => {
  it('answers 500 and logs the mismatch when a response does not match its schema', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => lines.push(line) });
    const app = Fastify();
    app.setValidatorCompiler(zodValidatorCompiler);
    app.setSerializerCompiler(zodSerializerCompiler);
    app.setErrorHandler((error, request, reply) =>
      sendErrorAnswer(
        answerFor(error, { bodyLimitBytes: 1024, mediaType: 'application/json' }),
        request,
        reply,
        logger,
      ),
    );
    app.get('/leaky', {
      schema: {
        response: {
          200: z.strictObject({ name: z.string() }),
          500: z.strictObject({ error: z.strictObject({ code: z.string(), message: z.string() }) }),
        },
      },
      handler: async () => ({ name: 'ok', password_hash: 'scrypt$do-not-send' }),
    });

    const answer = await app.inject({ method: 'GET', url: '/leaky' });
    expect(answer.statusCode).toBe(500);
    expect(answer.body).not.toContain('do-not-send');
    expect(answer.json().error.code).toBe('internal');
    const logged = lines.map((line) => JSON.parse(line));
    expect(
      logged.some(
        (line) => line.level === 50 && /does not match its schema/.test(line.err?.message),
      ),
    ).toBe(true);
    await app.close();
  });
});
