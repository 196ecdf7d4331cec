import pg from 'pg';
import { SluiceError } from '../../core/errors.js';
import { NETWORK_REASONS } from '../../core/network-reasons.js';
import { CONNECT_TIMEOUT_MS, describeTarget, type PostgresSettings } from './postgres-settings.js';

/**
 * Turns node-postgres failures into SluiceErrors by SQLSTATE. Messages are the server's own
 * (never its `detail`, which quotes row values), with bound values and the password replaced by
 * `[redacted]`. The `cause` is a copy of the driver's error scrubbed the same way, keeping its
 * SQLSTATE and the names of the objects involved but not `detail` or `where`, since causes end
 * up in logs.
 */

const REDACTED = '[redacted]';

/** SQLSTATEs that mean the server cannot be used at all rather than that a statement failed. */
const UNREACHABLE_STATES = /^(08|28|3D000|57P0[123])/;
const RETRYABLE_STATES = new Set(['40001', '40P01']);
const CONNECTION_MESSAGES =
  /connection terminated|timeout expired|connection timeout|not queryable/i;

/** The statement failed because its signal aborted (or the server cancelled it). */
export function cancelledError(settings: PostgresSettings, cause?: unknown): SluiceError {
  return new SluiceError(
    'query_cancelled',
    `The statement on gateway '${settings.gateway}' was cancelled before it finished; ` +
      'nothing it wrote outside a committed transaction was kept',
    { cause: safeCause(cause, [], settings) },
  );
}

/** The server could not be reached or refused the connection. */
export function unreachableError(error: unknown, settings: PostgresSettings): SluiceError {
  const state = sqlStateOf(error);
  const isConfiguration = state !== undefined && /^(28|3D000)/.test(state);
  return new SluiceError(
    'engine_unreachable',
    `Cannot reach PostgreSQL for gateway '${settings.gateway}' at ${describeTarget(settings)}: ` +
      `${scrub(unreachableReason(error), [], settings)}; check that PostgreSQL runs at ` +
      `${settings.host}:${settings.port} and that the gateway's settings are right`,
    { cause: safeCause(error, [], settings), retryable: !isConfiguration },
  );
}

/** Whether an error means the connection, not the statement, failed. */
export function isConnectionFailure(error: unknown): boolean {
  const state = sqlStateOf(error);
  if (state !== undefined) return UNREACHABLE_STATES.test(state);
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code in NETWORK_REASONS) return true;
  return error instanceof Error && CONNECTION_MESSAGES.test(error.message);
}

/** Whether nothing answered at all (no route, no host, refused, timed out). */
export function isNetworkFailure(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code in NETWORK_REASONS) return true;
  return error instanceof Error && /timeout/i.test(error.message);
}

/** The statement that failed: its text, and the bound values to keep out of messages. */
export type FailedStatement = { readonly sql?: string; readonly params?: readonly unknown[] };

/** Maps any failure of a statement. */
export function toSluiceError(
  error: unknown,
  settings: PostgresSettings,
  statement: FailedStatement = {},
): SluiceError {
  if (error instanceof SluiceError) return error;
  if (isConnectionFailure(error)) return unreachableError(error, settings);

  const state = sqlStateOf(error);
  const values = statement.params ?? [];
  const message = scrub(serverMessage(error), values, settings, state);
  const prefix = `PostgreSQL on gateway '${settings.gateway}' reports: ${message}`;
  const cause = safeCause(error, values, settings);
  switch (classify(error, state)) {
    case 'table_missing':
      return new SluiceError('table_missing', `${prefix}; create the table or fix its name`, {
        cause,
      });
    case 'engine_type_rejected':
      return new SluiceError(
        'engine_type_rejected',
        `${prefix}${writtenAs(error, statement.sql)}; use a type PostgreSQL knows, ` +
          'such as INTEGER, BIGINT, NUMERIC, TEXT, DATE, TIMESTAMP or BOOLEAN',
        { cause },
      );
    case 'query_cancelled':
      return new SluiceError('query_cancelled', `${prefix}; the statement did not finish`, {
        cause,
      });
    case 'engine_error':
      return new SluiceError('engine_error', `${prefix}${hintOf(error, values, settings)}`, {
        cause,
        retryable: state !== undefined && RETRYABLE_STATES.has(state),
      });
  }
}

/** Fields of a driver error that name things rather than quote data. */
const SAFE_FIELDS = [
  'code',
  'severity',
  'position',
  'routine',
  'schema',
  'table',
  'column',
  'dataType',
  'constraint',
  'errno',
  'syscall',
] as const;

/** A copy of a driver error that is safe to keep: scrubbed message, naming fields only. */
function safeCause(error: unknown, values: readonly unknown[], settings: PostgresSettings) {
  if (!(error instanceof Error)) return error;

  const copy = new Error(scrub(error.message, values, settings, sqlStateOf(error)));
  copy.name = error instanceof pg.DatabaseError ? 'PostgresError' : error.name;
  const fields = error as unknown as Record<string, unknown>;
  for (const field of SAFE_FIELDS) {
    if (fields[field] !== undefined) Object.assign(copy, { [field]: fields[field] });
  }
  return copy;
}

type StatementFailure =
  | 'table_missing'
  | 'engine_type_rejected'
  | 'query_cancelled'
  | 'engine_error';

function classify(error: unknown, state: string | undefined): StatementFailure {
  if (state === '42P01') return 'table_missing';
  if (state === '42704' && /^type /.test(messageOf(error))) return 'engine_type_rejected';
  if (state === '57014') return 'query_cancelled';
  return 'engine_error';
}

function sqlStateOf(error: unknown): string | undefined {
  return error instanceof pg.DatabaseError ? error.code : undefined;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The server's message, plus where in the data a COPY failed. */
function serverMessage(error: unknown): string {
  const message = messageOf(error);
  if (!(error instanceof pg.DatabaseError) || !error.where?.startsWith('COPY ')) return message;
  const place = /line (\d+)(?:, column ([^:]+))?/.exec(error.where);
  if (place === null) return message;
  const column = place[2] === undefined ? '' : `, column ${place[2]}`;
  return `${message} (line ${place[1]} of the data${column})`;
}

/**
 * How the statement spells the name the server complains about: PostgreSQL folds unquoted names
 * to lower case, so `INTEGRAL_NUMBER` is reported as "integral_number".
 */
function writtenAs(error: unknown, sql: string | undefined): string {
  if (!(error instanceof pg.DatabaseError) || error.position === undefined || sql === undefined) {
    return '';
  }
  const rest = sql.slice(Number(error.position) - 1);
  const written = /^("[^"]*"|[\p{L}_][\p{L}\p{N}_$]*)/u.exec(rest)?.[0];
  return written === undefined ? '' : ` (written ${written} in the statement)`;
}

function hintOf(error: unknown, values: readonly unknown[], settings: PostgresSettings): string {
  if (!(error instanceof pg.DatabaseError) || error.hint === undefined) return '';
  return ` (hint: ${scrub(error.hint, values, settings, error.code)})`;
}

function unreachableReason(error: unknown): string {
  if (error instanceof pg.DatabaseError) return error.message;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && NETWORK_REASONS[code] !== undefined) return NETWORK_REASONS[code];
  const message = messageOf(error);
  if (/timeout/i.test(message)) return `no answer within ${CONNECT_TIMEOUT_MS / 1000} s`;
  if (/terminated/i.test(message)) return 'the connection was closed';
  return message;
}

/**
 * Removes secrets from a message: the password, every bound value (quoted anywhere; bare when
 * at least 4 characters long, as shorter ones cannot be told from the message's own words) and,
 * for data exceptions (class 22), every double-quoted text, which there always holds a value.
 */
function scrub(
  text: string,
  values: readonly unknown[],
  settings: PostgresSettings,
  state?: string,
): string {
  let result = text;
  if (settings.password !== undefined && settings.password !== '') {
    result = result.replaceAll(settings.password, REDACTED);
  }
  for (const value of values) {
    const valueText = textOf(value);
    if (valueText === '') continue;
    result = result.replaceAll(`"${valueText}"`, `"${REDACTED}"`);
    if (valueText.length >= 4) result = result.replaceAll(valueText, REDACTED);
  }
  if (state?.startsWith('22')) result = result.replace(/"[^"]*"/g, `"${REDACTED}"`);
  return result;
}

function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') {
    return String(value);
  }
  if (value instanceof Date && !Number.isNaN(value.getTime())) return value.toISOString();
  return '';
}
