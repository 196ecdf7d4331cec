import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { SluiceError } from '../../../core/errors.js';

/** The body of a POST that takes no fields: none at all, or an empty JSON object. */
export const noFieldsSchema = z.strictObject({}).optional();

/** The authenticated client, as the actor of audit entries. */
export function actorOf(request: FastifyRequest): string {
  if (request.principal === undefined) {
    throw new SluiceError('internal', 'A route that records an actor was reached without a token');
  }
  return request.principal.clientId;
}
