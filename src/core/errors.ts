/**
 * Every failure Sluice reports is a SluiceError: a code from a closed union that callers and the
 * retry policy branch on, a message written for the person who has to fix it, and, for bad input,
 * the place (file, line, column) where it was found.
 */

/** The closed set of error codes. Add a code here before throwing a new kind of failure. */
export type ErrorCode =
  | 'config_invalid'
  | 'secret_literal'
  | 'model_header_invalid'
  | 'model_property_unknown'
  | 'model_kind_unknown'
  | 'model_not_supported'
  | 'model_query_invalid'
  | 'model_duplicate'
  | 'model_undefined_reference'
  | 'model_not_found'
  | 'sql_syntax'
  | 'macro_error'
  | 'dependency_cycle'
  | 'seed_invalid'
  | 'project_not_found'
  | 'secret_unresolved'
  | 'engine_unreachable'
  | 'engine_error'
  | 'engine_type_rejected'
  | 'table_missing'
  | 'query_cancelled'
  | 'identifier_too_long'
  | 'unique_key_violation'
  | 'state_key_invalid'
  | 'state_too_new'
  | 'state_error'
  | 'state_unreachable'
  | 'payload_undecryptable'
  | 'backup_invalid'
  | 'backup_refused'
  | 'run_failed'
  | 'plan_stale'
  | 'plan_locked'
  | 'plan_applied'
  | 'plan_not_found'
  | 'run_not_found'
  | 'environment_not_found'
  | 'audit_failed'
  | 'audit_invalid'
  | 'request_invalid'
  | 'auth_invalid'
  | 'auth_forbidden'
  | 'rate_limited'
  | 'client_exists'
  | 'client_not_found'
  | 'audit_chain_broken'
  | 'task_not_found'
  | 'lease_lost'
  | 'lease_not_held'
  | 'protocol_unsupported'
  | 'executor_unknown'
  | 'usage'
  | 'internal';

/** Where in a file a problem was found; line and column are 1-based. */
export type SourceLocation = {
  readonly file: string;
  readonly line?: number;
  readonly column?: number;
};

export type SluiceErrorOptions = {
  readonly location?: SourceLocation;
  readonly retryable?: boolean;
  readonly cause?: unknown;
};

/** The base error of the project. Messages never contain secrets or bound parameters. */
export class SluiceError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly location: SourceLocation | undefined;

  constructor(code: ErrorCode, message: string, options: SluiceErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SluiceError';
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.location = options.location;
  }

  /** The message prefixed with `file:line:column` when the location is known. */
  describe(): string {
    return this.location === undefined
      ? this.message
      : `${formatLocation(this.location)}: ${this.message}`;
  }
}

/** Several independent problems found in one pass, such as loading a project. */
export class SluiceErrors extends SluiceError {
  readonly errors: readonly SluiceError[];

  constructor(errors: readonly SluiceError[]) {
    const first = errors[0];
    super(first?.code ?? 'internal', summarise(errors), { location: first?.location });
    this.name = 'SluiceErrors';
    this.errors = errors;
  }

  override describe(): string {
    return this.errors.map((error) => error.describe()).join('\n');
  }
}

/** Formats a location as `file:line:column`, leaving out what is unknown. */
export function formatLocation(location: SourceLocation): string {
  let text = location.file;
  if (location.line !== undefined) {
    text += `:${location.line}`;
    if (location.column !== undefined) text += `:${location.column}`;
  }
  return text;
}

/** Throws all collected errors at once, or nothing when there are none. */
export function throwIfAny(errors: readonly SluiceError[]): void {
  if (errors.length === 1 && errors[0] !== undefined) throw errors[0];
  if (errors.length > 1) throw new SluiceErrors(errors);
}

function summarise(errors: readonly SluiceError[]): string {
  if (errors.length === 1 && errors[0] !== undefined) return errors[0].message;
  return `${errors.length} problems found: ${errors.map((error) => error.describe()).join('; ')}`;
}

/** Finds the closest candidate by edit distance, for "did you mean" hints. */
export function closestMatch(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  const lower = word.toLowerCase();
  for (const candidate of candidates) {
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  const limit = Math.max(2, Math.ceil(word.length / 3));
  return bestDistance <= limit ? best : undefined;
}

/** A hint sentence for an unknown word, or an empty string when nothing is close. */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  const match = closestMatch(word, candidates);
  return match === undefined ? '' : ` Did you mean '${match}'?`;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
