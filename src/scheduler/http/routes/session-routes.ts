import { SluiceError } from '../../../core/errors.js';
import { whoamiResponseSchema } from '../../../protocol/session-api.js';
import type { SchedulerApp } from '../scheduler-app.js';

/**
 * `GET /v1/whoami`: any valid token may ask who it stands for. It does nothing else, which also
 * makes it the measure of what authentication alone costs a request (bench/auth.mjs).
 */
export function registerSessionRoutes(app: SchedulerApp): void {
  app.get('/v1/whoami', {
    schema: { response: { 200: whoamiResponseSchema } },
    config: { access: 'authenticated', summary: 'The client and roles of the calling token' },
    handler: async (request) => {
      const principal = request.principal;
      if (principal === undefined) {
        throw new SluiceError('internal', 'An authenticated route was reached without a token');
      }
      return {
        client_id: principal.clientId,
        roles: [...principal.roles],
        token_expires_at: new Date(principal.expiresAtSec * 1000).toISOString(),
      };
    },
  });
}
