import {
  type Document,
  isMap,
  isNode,
  isScalar,
  isSeq,
  LineCounter,
  Pair,
  parseDocument,
} from 'yaml';
import type { z } from 'zod';
import {
  didYouMean,
  type ErrorCode,
  SluiceError,
  type SourceLocation,
  throwIfAny,
} from '../core/errors.js';

/** A parsed YAML file that can say where each value was written. */
export type YamlFile = {
  readonly file: string;
  readonly value: unknown;
  locate(path: readonly PropertyKey[]): SourceLocation;
};

/** Parses YAML text; a syntax error becomes a SluiceError naming the file, line and column. */
export function parseYamlFile(file: string, text: string): YamlFile {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });

  const problem = document.errors[0];
  if (problem !== undefined) {
    const position = lineCounter.linePos(problem.pos[0]);
    const reason = problem.message.split('\n')[0] ?? 'invalid YAML';
    throw new SluiceError('config_invalid', `${file} is not valid YAML: ${reason}`, {
      location: { file, line: position.line, column: position.col },
    });
  }

  const locate = (path: readonly PropertyKey[]): SourceLocation => {
    const node = nearestNode(document, path);
    const offset = node?.range?.[0];
    if (offset === undefined) return { file };
    const position = lineCounter.linePos(offset);
    return { file, line: position.line, column: position.col };
  };
  return { file, value: document.toJS() ?? {}, locate };
}

type Ranged = { range?: [number, number, number] | null };

/** The key node of the deepest pair that exists along `path`, so errors point at the key. */
function nearestNode(document: Document, path: readonly PropertyKey[]): Ranged | undefined {
  let current: unknown = document.contents;
  let found: Ranged | undefined = isNode(current) ? (current as Ranged) : undefined;
  for (const segment of path) {
    const pair = findPair(current, segment);
    if (pair === undefined) break;
    found = isNode(pair.key) ? (pair.key as Ranged) : found;
    current = pair.value;
  }
  return found;
}

function findPair(node: unknown, segment: PropertyKey): Pair | undefined {
  if (isMap(node)) {
    return node.items.find(
      (pair) => isScalar(pair.key) && String(pair.key.value) === String(segment),
    );
  }
  if (isSeq(node) && typeof segment === 'number') {
    const item = node.items[segment];
    return item === undefined ? undefined : new Pair(item, item);
  }
  return undefined;
}

/** Validates a YAML file's value with a schema, turning every issue into a located error. */
export function validateYaml<T>(
  yaml: YamlFile,
  schema: z.ZodType<T>,
  options: ValidateOptions = {},
): T {
  const result = schema.safeParse(yaml.value);
  if (result.success) return result.data;

  const errors = result.error.issues.map((issue) => issueToError(yaml, issue, options));
  throwIfAny(errors);
  throw new SluiceError('internal', `${yaml.file} failed validation without a reported problem`);
}

export type ValidateOptions = {
  readonly code?: ErrorCode;
  /** The keys allowed at a path, to suggest the closest one for a misspelt key. */
  readonly allowedKeys?: (path: readonly PropertyKey[]) => readonly string[] | undefined;
};

function issueToError(
  yaml: YamlFile,
  issue: z.core.$ZodIssue,
  options: ValidateOptions,
): SluiceError {
  const code = options.code ?? 'config_invalid';
  const where = issue.path.length === 0 ? 'the top level' : `'${issue.path.join('.')}'`;
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0] ?? '';
    const known = didYouMean(key, options.allowedKeys?.(issue.path) ?? []);
    return new SluiceError(
      code,
      `Unknown key '${key}' at ${where} in ${yaml.file}; remove it or fix its spelling.${known}`,
      { location: yaml.locate([...issue.path, key]) },
    );
  }
  return new SluiceError(
    code,
    `Invalid value for ${where} in ${yaml.file}: ${describeIssue(issue)}`,
    {
      location: yaml.locate(issue.path),
    },
  );
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type' && issue.message.endsWith('received undefined')) {
    return `it is required (expected ${issue.expected}).`;
  }
  const message = issue.message.replace(/^Invalid input: /, '');
  return `${message.charAt(0).toLowerCase()}${message.slice(1)}.`;
}
