import { join } from 'node:path';
import { SluiceError } from '../core/errors.js';
import { loadKeyRing } from '../state/crypto/key-ring.js';
import { defaultStateLocation, parseStateUrl } from '../state/state-location.js';
import type { KeyRing, StateLocation } from '../state/state-types.js';

/** Where the state lives, its keys, and where its backups go, as the CLI options say. */
export type StateContext = {
  readonly location: StateLocation;
  readonly keyRing: KeyRing;
  readonly keySource: string;
  /** The key file the ring came from when it is the project's generated one, else undefined. */
  readonly keyFile: string | undefined;
  readonly backupDir: string;
};

export type StateCliOptions = { readonly state?: string; readonly backupDir?: string };

/**
 * Resolves the state location (`--state`, then SLUICE_STATE_URL, then the project's embedded
 * SQLite file) and its key ring (SLUICE_STATE_KEYS or SLUICE_STATE_KEYS_FILE; for the embedded
 * default only, a key file generated beside the state with owner-only permissions).
 */
export async function resolveStateContext(
  projectDir: string,
  options: StateCliOptions,
  env: NodeJS.ProcessEnv = process.env,
): Promise<StateContext> {
  const url = options.state ?? env.SLUICE_STATE_URL;
  const location =
    url === undefined ? defaultStateLocation(projectDir) : parseStateUrl(url, projectDir);
  const hasKeysFromEnv =
    env.SLUICE_STATE_KEYS !== undefined || env.SLUICE_STATE_KEYS_FILE !== undefined;
  if (url !== undefined && !hasKeysFromEnv) {
    throw new SluiceError(
      'state_key_invalid',
      'A state store given by --state or SLUICE_STATE_URL needs its keys: set SLUICE_STATE_KEYS ' +
        'to the key ring, or SLUICE_STATE_KEYS_FILE to a file holding it (for example a mounted ' +
        'secret). Only the embedded default generates its own key',
    );
  }

  const keyFile = hasKeysFromEnv ? undefined : join(projectDir, '.sluice', 'state.key');
  const { ring, source } = await loadKeyRing({ env, defaultFile: keyFile });
  const backupDir =
    options.backupDir ?? env.SLUICE_BACKUP_DIR ?? join(projectDir, '.sluice', 'backups');
  return { location, keyRing: ring, keySource: source, keyFile, backupDir };
}
