import type {
  FastifySchemaCompiler,
  FastifySerializerCompiler,
  FastifyTypeProvider,
} from 'fastify';
import type { z } from 'zod';
import { SluiceError } from '../../core/errors.js';
import { HttpProblem, lowerFirst } from './api-errors.js';

/**
 * Fastify validates requests and serialises responses with the routes' zod schemas, so the
 * schemas in `protocol/` are the only description of the API: they check what comes in (strict
 * objects reject unknown fields instead of dropping them), check what goes out, and produce the
 * OpenAPI document.
 */

/** Types route handlers by their zod schemas: the parsed request, the response to send. */
export interface ZodTypeProvider extends FastifyTypeProvider {
  validator: this['schema'] extends z.ZodType ? z.output<this['schema']> : unknown;
  serializer: this['schema'] extends z.ZodType ? z.input<this['schema']> : unknown;
}

/** The name of each request part in a field path, such as `body.roles[0]`. */
const PART_NAMES: Readonly<Record<string, string>> = {
  body: 'body',
  querystring: 'query',
  params: 'params',
  headers: 'headers',
};

/**
 * Checks a request part; the first problem becomes a 400 that names the field and says what was
 * expected. Zod's messages name types and allowed values, never the value received, so nothing a
 * caller sent (a secret pasted in the wrong field) is echoed back.
 */
export const zodValidatorCompiler: FastifySchemaCompiler<z.ZodType> = ({ schema, httpPart }) => {
  const part = PART_NAMES[httpPart ?? 'body'] ?? 'request';
  return (data: unknown) => {
    // Fastify hands a missing body over as null; an optional body schema expects undefined.
    const input = part === 'body' && data === null ? undefined : data;
    const result = schema.safeParse(input);
    if (result.success) return { value: result.data };
    return { error: problemOf(result.error.issues[0], part, input) };
  };
};

/**
 * Checks every response against its schema before it is written: a response that does not match
 * is a fault of the service, reported as a 500 and logged, and never sent.
 */
export const zodSerializerCompiler: FastifySerializerCompiler<z.ZodType> = ({
  schema,
  method,
  url,
  httpStatus,
}) => {
  return (data: unknown) => {
    const result = schema.safeParse(data);
    if (result.success) return JSON.stringify(result.data);

    const issue = result.error.issues[0];
    const where = fieldPath('response', issue?.path ?? []);
    throw new SluiceError(
      'internal',
      `The ${method} ${url} response with status ${httpStatus} does not match its schema at ` +
        `'${where}': ${issue?.message ?? 'unknown problem'}`,
    );
  };
};

function problemOf(issue: z.core.$ZodIssue | undefined, part: string, input: unknown): HttpProblem {
  if (issue === undefined) {
    return new HttpProblem(400, 'request_invalid', `The request ${part} is invalid`, part);
  }

  if (issue.code === 'unrecognized_keys') {
    const field = fieldPath(part, [...issue.path, issue.keys[0] ?? '']);
    return new HttpProblem(
      400,
      'request_invalid',
      `The request field '${field}' is not part of this API; remove it`,
      field,
    );
  }

  const field = fieldPath(part, issue.path);
  if (issue.code === 'invalid_type' && valueAt(input, issue.path) === undefined) {
    return new HttpProblem(
      400,
      'request_invalid',
      `The request field '${field}' is missing; give a ${issue.expected}`,
      field,
    );
  }
  return new HttpProblem(
    400,
    'request_invalid',
    `The request field '${field}' is invalid: ${lowerFirst(issue.message)}`,
    field,
  );
}

/** A field path such as `body.roles[0]` or `query.limit`. */
export function fieldPath(part: string, path: readonly PropertyKey[]): string {
  let text = part;
  for (const key of path) {
    if (typeof key === 'number') text += `[${key}]`;
    else if (typeof key === 'string' && /^[A-Za-z_$][\w$-]*$/.test(key)) text += `.${key}`;
    else text += `[${JSON.stringify(String(key))}]`;
  }
  return text;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value = input;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}
