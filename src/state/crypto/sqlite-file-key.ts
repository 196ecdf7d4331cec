import { hkdfSync } from 'node:crypto';
import type { StateKey } from '../state-types.js';

/**
 * The SQLCipher key of the SQLite state file, derived from a state key so that the file key and
 * the payload key are never the same bytes.
 */

const INFO = 'sluice sqlite state file';
const FILE_KEY_BYTES = 32;

/** The 32-byte raw SQLCipher key for `key`, as hex for `PRAGMA key = "x'...'"`. */
export function sqliteFileKey(key: StateKey): string {
  // A raw key skips SQLCipher's PBKDF2 on open; HKDF already gives a uniformly random key.
  const derived = hkdfSync('sha256', key.secret, Buffer.alloc(0), INFO, FILE_KEY_BYTES);
  return Buffer.from(derived).toString('hex');
}
