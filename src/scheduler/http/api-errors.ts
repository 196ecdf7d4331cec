import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { type ErrorCode, SluiceError } from '../../core/errors.js';
import type { ApiError } from '../../protocol/api-error.js';

/**
 * How failures become HTTP answers: the status for each error code, the body every error shares
 * (`protocol/api-error.ts`), and what is logged. Only errors whose messages are written for the
 * caller (SluiceErrors and the framework's request errors) are passed on; anything else is a
 * generic 500 whose details go to the log alone.
 */

/** A failure with its HTTP status decided where it happens, and the field to blame if any. */
export class HttpProblem extends SluiceError {
  readonly statusCode: number;
  readonly field: string | undefined;
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    statusCode: number,
    code: ErrorCode,
    message: string,
    field?: string,
    headers: Readonly<Record<string, string>> = {},
  ) {
    super(code, message);
    this.statusCode = statusCode;
    this.field = field;
    this.headers = headers;
  }
}

/** An error as the caller sees it. */
export type ErrorAnswer = {
  readonly status: number;
  readonly body: ApiError;
  readonly headers: Readonly<Record<string, string>>;
  /** The original error, for the log, when the answer hides what went wrong. */
  readonly hidden: unknown;
};

/** What the answer needs to know about the endpoint: its body limit and media type. */
export type ErrorContext = { readonly bodyLimitBytes: number; readonly mediaType: string };

// biome-ignore format: one line per code keeps the table readable
const STATUS_BY_CODE: Partial<Record<ErrorCode, number>> = {
  request_invalid: 400, usage: 400,
  auth_invalid: 401,
  auth_forbidden: 403, lease_not_held: 403,
  client_not_found: 404, task_not_found: 404, run_not_found: 404, plan_not_found: 404,
  environment_not_found: 404, model_not_found: 404, plan_applied: 409,
  client_exists: 409, plan_stale: 409, plan_locked: 409, lease_lost: 409, executor_unknown: 409,
  protocol_unsupported: 426,
  rate_limited: 429,
  state_unreachable: 503,
};

const INTERNAL_MESSAGE =
  'The Scheduler failed to answer this request; the operator can find the cause in its log';

/** The answer for any error thrown while handling a request. */
export function answerFor(error: unknown, context: ErrorContext): ErrorAnswer {
  if (error instanceof HttpProblem) {
    return answer(error.statusCode, error.code, error.message, error.field, error.headers);
  }
  if (error instanceof SluiceError) {
    const status = STATUS_BY_CODE[error.code];
    if (status === undefined) return internal(error);
    const headers: Record<string, string> = status === 503 ? { 'retry-after': '5' } : {};
    return answer(status, error.code, error.message, undefined, headers);
  }
  return frameworkAnswer(error, context) ?? internal(error);
}

/** Sends an answer in the API's error format, and logs it as its status deserves. */
export function sendErrorAnswer(
  answerOf: ErrorAnswer,
  request: FastifyRequest,
  reply: FastifyReply,
  logger: Logger,
): FastifyReply {
  logErrorAnswer(answerOf, request, logger);
  return reply.code(answerOf.status).headers(answerOf.headers).send(answerOf.body);
}

/** Logs server faults at error with their cause, refused requests at debug. */
export function logErrorAnswer(answerOf: ErrorAnswer, request: FastifyRequest, logger: Logger) {
  const fields = {
    method: request.method,
    route: request.routeOptions.url ?? null,
    status: answerOf.status,
    code: answerOf.body.error.code,
  };
  if (answerOf.status >= 500) {
    logger.error({ ...fields, err: describeHidden(answerOf.hidden) }, 'request failed');
  } else {
    logger.debug({ ...fields, reason: answerOf.body.error.message }, 'request refused');
  }
}

function frameworkAnswer(error: unknown, context: ErrorContext): ErrorAnswer | undefined {
  const fastifyError = error as Partial<FastifyError>;
  switch (fastifyError.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return answer(400, 'request_invalid', 'The request body is not valid JSON', 'body');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return answer(
        415,
        'request_invalid',
        `The request body must be sent as ${context.mediaType}; set the Content-Type header`,
      );
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      // 413 Content Too Large is the status HTTP defines for this (RFC 9110 section 15.5.14).
      return answer(
        413,
        'request_invalid',
        `The request body is larger than the limit of ${context.bodyLimitBytes} bytes; send less`,
      );
  }

  const status = fastifyError.statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    return answer(
      status,
      'request_invalid',
      'The request is malformed; check it against /openapi.json',
    );
  }
  return undefined;
}

function answer(
  status: number,
  code: string,
  message: string,
  field?: string,
  headers: Readonly<Record<string, string>> = {},
): ErrorAnswer {
  const error = field === undefined ? { code, message } : { code, message, field };
  return { status, body: { error }, headers, hidden: undefined };
}

function internal(error: unknown): ErrorAnswer {
  return { ...answer(500, 'internal', INTERNAL_MESSAGE), hidden: error };
}

/** The text with its first letter in lower case, to continue a sentence with a message. */
export function lowerFirst(text: string): string {
  return text.length === 0 ? text : `${text[0]?.toLowerCase()}${text.slice(1)}`;
}

/** The error's kind, code, message and stack; SluiceError messages carry no secrets by rule. */
function describeHidden(error: unknown): Record<string, unknown> | undefined {
  if (error === undefined) return undefined;
  if (!(error instanceof Error)) return { type: typeof error };
  return {
    type: error.name,
    code: (error as { code?: unknown }).code,
    message: error.message,
    stack: error.stack,
  };
}
