import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from './zod-compilers.js';

/**
 * The Fastify app as the routes see it: handlers typed by their zod schemas. HTTPS and HTTP
 * servers hand Fastify the same request and response classes, so one type serves both.
 */
export type SchedulerApp = FastifyInstance<
  Server,
  IncomingMessage,
  ServerResponse,
  FastifyBaseLogger,
  ZodTypeProvider
>;
