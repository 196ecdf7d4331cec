import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { callApi, startTestScheduler } from '../../helpers/scheduler-service.js';
import { stateBackendsUnderTest } from '../../helpers/state-backends.js';

for (const backend of stateBackendsUnderTest()) {
  describe.skipIf(backend.skipReason !== '')(`graceful shutdown on ${backend.name}`, () => {
    it('finishes a request in flight when closing, then refuses new connections', async () => {
      const scheduler = await startTestScheduler(backend);
      const { port } = new URL(scheduler.url);
      const body = 'grant_type=client_credentials';
      const credentials = Buffer.from(
        `${scheduler.admin.clientId}:${encodeURIComponent(scheduler.admin.secret)}`,
      ).toString('base64');

      // The request's head goes out first; its body only after the close has begun.
      const socket = connect(Number(port), '127.0.0.1');
      let received = '';
      socket.on('data', (chunk: Buffer) => {
        received += chunk.toString();
      });
      const ended = new Promise<void>((resolve) => socket.on('close', () => resolve()));
      const arrived = new Promise((resolve) => scheduler.app.server.once('request', resolve));
      socket.write(
        'POST /oauth/token HTTP/1.1\r\nHost: 127.0.0.1\r\n' +
          'Content-Type: application/x-www-form-urlencoded\r\n' +
          `Authorization: Basic ${credentials}\r\nContent-Length: ${body.length}\r\n\r\n`,
      );
      await arrived;

      const closing = scheduler.close();
      socket.write(body);
      await closing;
      await ended;

      expect(received).toMatch(/^HTTP\/1\.1 200 /);
      expect(received).toContain('"token_type":"Bearer"');
      await expect(callApi(scheduler, '/healthz')).rejects.toThrow();
      const messages = scheduler.logs.map((line) => JSON.parse(line).msg);
      expect(messages.at(-1)).toBe('stopped');
      expect(messages.lastIndexOf('request')).toBeGreaterThan(messages.indexOf('stopping'));
    });
  });
}
