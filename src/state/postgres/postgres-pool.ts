import pg from 'pg';
import { SluiceError } from '../../core/errors.js';
import { NETWORK_REASONS } from '../../core/network-reasons.js';
import { describeLocation } from '../state-location.js';
import type { StateLocation } from '../state-types.js';

/**
 * Connections to the PostgreSQL state database. Every connection gets the store's schema as its
 * `search_path` at connect time, so unqualified table names mean the store's tables and several
 * stores (one per schema) can share a database.
 */

type PostgresLocation = Extract<StateLocation, { backend: 'postgres' }>;

/** How long opening one connection may take. */
export const CONNECT_TIMEOUT_MS = 10_000;

/** A pool of up to `size` connections whose search_path is the store's schema. */
export function createStatePool(location: PostgresLocation, size: number): pg.Pool {
  const url = new URL(location.url);
  const userOptions = url.searchParams.get('options') ?? '';
  url.searchParams.delete('options');

  const pool = new pg.Pool({
    connectionString: url.toString(),
    options: `${userOptions} -c search_path=${location.schema}`.trim(),
    max: size,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
  });
  // An idle connection that breaks is dropped by the pool; the next query opens a new one.
  pool.on('error', () => undefined);
  return pool;
}

/** Checks that the server answers and creates the store's schema when it is missing. */
export async function preparePostgres(pool: pg.Pool, location: PostgresLocation): Promise<void> {
  try {
    const found = await pool.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [
      location.schema,
    ]);
    if (found.rowCount === 0) await pool.query(`CREATE SCHEMA IF NOT EXISTS "${location.schema}"`);
  } catch (error) {
    // Two stores creating the schema at once: the loser sees a unique violation, and the schema
    // exists, which is all that was asked.
    if (!isSchemaRace(error)) throw unreachableState(error, location);
  }
}

/** The state database could not be reached or refused the connection; no password is shown. */
export function unreachableState(error: unknown, location: PostgresLocation): SluiceError {
  return new SluiceError(
    'state_unreachable',
    `Cannot use the PostgreSQL state database ${describeLocation(location)}: ` +
      `${reasonOf(error, location)}; check that PostgreSQL runs there and that the state URL ` +
      '(user, password, database) is right',
    { cause: scrubbedCause(error, location), retryable: isNetworkFailure(error) },
  );
}

function isSchemaRace(error: unknown): boolean {
  return error instanceof pg.DatabaseError && (error.code === '23505' || error.code === '42P06');
}

function isNetworkFailure(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code in NETWORK_REASONS;
}

function reasonOf(error: unknown, location: PostgresLocation): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && NETWORK_REASONS[code] !== undefined) return NETWORK_REASONS[code];
  const message = error instanceof Error ? error.message : String(error);
  if (/timeout/i.test(message)) return `no answer within ${CONNECT_TIMEOUT_MS / 1000} s`;
  return scrub(message, location);
}

/** A copy of the driver's error with the password removed, since causes end up in logs. */
function scrubbedCause(error: unknown, location: PostgresLocation): unknown {
  if (!(error instanceof Error)) return undefined;
  const copy = new Error(scrub(error.message, location));
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') Object.assign(copy, { code });
  return copy;
}

function scrub(text: string, location: PostgresLocation): string {
  const url = new URL(location.url);
  const secrets = [url.password, url.searchParams.get('password') ?? '']
    .map((secret) => safeDecode(secret))
    .filter((secret) => secret !== '');
  return secrets.reduce((result, secret) => result.replaceAll(secret, '[redacted]'), text);
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
