import { isAbsolute, join, resolve } from 'node:path';
import { SluiceError } from '../core/errors.js';
import type { StateLocation } from './state-types.js';

/**
 * Where the state lives, given as a URL: `sqlite:///abs/path/state.db` (absolute),
 * `sqlite://relative/path.db` (relative to the project folder), or `postgres://` /
 * `postgresql://` with an optional `?schema=name`. Messages never repeat a password.
 */

/** The PostgreSQL schema that holds the store's tables when the URL names none. */
export const DEFAULT_STATE_SCHEMA = 'sluice';

const SCHEMA_PATTERN = /^[a-z_][a-z0-9_]{0,62}$/;
const SQLITE_PREFIX = 'sqlite://';
const POSTGRES_SCHEMES = new Set(['postgres:', 'postgresql:']);
const URL_HINT =
  "write 'sqlite:///absolute/path/state.db', 'sqlite://path/relative/to/the/project.db' or " +
  "'postgres://user@host:5432/database?schema=sluice'";

/** Parses a state URL; relative SQLite paths are resolved against `baseDir`. */
export function parseStateUrl(url: string, baseDir: string): StateLocation {
  const text = url.trim();
  if (text.startsWith(SQLITE_PREFIX)) return parseSqlite(text.slice(SQLITE_PREFIX.length), baseDir);

  const scheme = /^([a-z][a-z0-9+.-]*:)/i.exec(text)?.[1]?.toLowerCase();
  if (scheme !== undefined && POSTGRES_SCHEMES.has(scheme)) return parsePostgres(text);

  const named = scheme === undefined ? 'has no scheme' : `has the unknown scheme '${scheme}'`;
  throw invalid(`The state location ${named}; ${URL_HINT}`);
}

/** The default state location: an encrypted SQLite file in the project's `.sluice/` folder. */
export function defaultStateLocation(projectRoot: string): StateLocation {
  return { backend: 'sqlite', path: join(resolve(projectRoot), '.sluice', 'state.db') };
}

/** The location for messages: the file path, or the PostgreSQL URL without credentials. */
export function describeLocation(location: StateLocation): string {
  if (location.backend === 'sqlite') return `'${location.path}'`;

  const url = new URL(location.url);
  const user = url.username === '' ? '' : `${url.username}@`;
  const database = url.pathname.length > 1 ? url.pathname : '';
  return `'${url.protocol}//${user}${url.host}${database}' (schema '${location.schema}')`;
}

function parseSqlite(rest: string, baseDir: string): StateLocation {
  if (/[?#]/.test(rest)) {
    throw invalid(
      'The SQLite state location takes no parameters; give the key in SLUICE_STATE_KEYS or ' +
        `SLUICE_STATE_KEYS_FILE, never in the URL (${URL_HINT})`,
    );
  }

  const path = decodePath(rest);
  if (path === '' || path === '/' || path.endsWith('/') || path.includes(':memory:')) {
    throw invalid(`The SQLite state location names no file; ${URL_HINT}`);
  }
  return { backend: 'sqlite', path: isAbsolute(path) ? path : resolve(baseDir, path) };
}

function decodePath(encoded: string): string {
  try {
    return decodeURIComponent(encoded);
  } catch {
    throw invalid(`The SQLite state location has an invalid %-escape; ${URL_HINT}`);
  }
}

function parsePostgres(text: string): StateLocation {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    // The text is not quoted: it may hold a password that URL parsing could not separate out.
    throw invalid(`The PostgreSQL state location is not a valid URL; ${URL_HINT}`);
  }
  if (url.hostname === '' && !url.searchParams.has('host')) {
    throw invalid(
      `The PostgreSQL state location ${describeParsed(url)} names no host; ${URL_HINT}`,
    );
  }

  const schema = readSchema(url);
  url.searchParams.delete('schema');
  return { backend: 'postgres', url: url.toString(), schema };
}

function readSchema(url: URL): string {
  const schema = url.searchParams.get('schema');
  if (schema === null) return DEFAULT_STATE_SCHEMA;
  if (!SCHEMA_PATTERN.test(schema)) {
    throw invalid(
      `The state schema '${schema}' in ${describeParsed(url)} is not a plain lower-case name; ` +
        "use letters a-z, digits and '_' (at most 63), starting with a letter or '_'",
    );
  }
  return schema;
}

function describeParsed(url: URL): string {
  const user = url.username === '' ? '' : `${url.username}@`;
  return `'${url.protocol}//${user}${url.host}${url.pathname}'`;
}

function invalid(message: string): SluiceError {
  return new SluiceError('config_invalid', message);
}
