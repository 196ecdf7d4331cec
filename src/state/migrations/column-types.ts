import type { StateBackend } from '../state-types.js';

/**
 * Column types that differ between the backends. Everything else the migrations use (text,
 * integer) is spelt the same on SQLite and PostgreSQL.
 */

/** The type of a column of bytes, such as an encrypted payload. */
export function bytesType(backend: StateBackend): 'blob' | 'bytea' {
  return backend === 'sqlite' ? 'blob' : 'bytea';
}
