import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { SluiceError } from '../../core/errors.js';
import type { KeyRing, StateKey } from '../state-types.js';

/**
 * The key ring that encrypts state: parsed from `SLUICE_STATE_KEYS`, a file named by
 * `SLUICE_STATE_KEYS_FILE`, or a generated file beside the SQLite state. The first key is active
 * (it encrypts new writes); every key decrypts. Key bytes never appear in messages.
 */

/** The length in bytes of every state key's secret. */
export const STATE_KEY_BYTES = 32;

const ENV_RING = 'SLUICE_STATE_KEYS';
const ENV_FILE = 'SLUICE_STATE_KEYS_FILE';
const KEY_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
const BASE64_PATTERN = /^[A-Za-z0-9+/_-]+={0,2}$/;
const FORMAT_HINT =
  "write each key as 'id:base64' (an id of letters, digits, '.', '_' or '-', and 32 bytes in " +
  'base64), separated by commas or newlines, the active key first';
const FILE_HEADER =
  '# Sluice state keys, one `id:base64` per line; the first is active, the others still decrypt.\n' +
  '# Keep this file secret (mode 600) and never commit it.\n';

/** Parses a key ring from text; `source` names where the text came from, for messages. */
export function parseKeyRing(text: string, source: string): KeyRing {
  const entries = splitEntries(text);
  if (entries.length === 0) {
    throw invalid(`The state key ring in '${source}' holds no keys; ${FORMAT_HINT}`);
  }

  const keys = new Map<string, StateKey>();
  entries.forEach((entry, index) => {
    const key = parseEntry(entry, index + 1, source);
    if (keys.has(key.id)) {
      throw invalid(
        `State key '${key.id}' appears twice in '${source}' (entry ${index + 1}); ` +
          'give each key its own id',
      );
    }
    keys.set(key.id, key);
  });

  return ringOf(keys);
}

/** Formats a key ring as text that `parseKeyRing` reads back, the active key first. */
export function formatKeyRing(ring: KeyRing): string {
  const lines = orderedKeys(ring).map((key) => `${key.id}:${key.secret.toString('base64')}`);
  return `${lines.join('\n')}\n`;
}

/** Generates a random key whose id carries its creation date, such as 'k20250131a3f9'. */
export function generateStateKey(now: Date = new Date()): StateKey {
  const date = now.toISOString().slice(0, 10).replaceAll('-', '');
  const id = `k${date}${randomBytes(2).toString('hex')}`;
  return { id, secret: randomBytes(STATE_KEY_BYTES) };
}

/** Makes `key` the active key, keeping the ring's other keys for reading. */
export function withNewActiveKey(ring: KeyRing, key: StateKey): KeyRing {
  if (!KEY_ID_PATTERN.test(key.id)) {
    throw invalid(`A new state key has an invalid id; ${FORMAT_HINT}`);
  }
  if (ring.keys.has(key.id)) {
    throw invalid(`State key '${key.id}' is already in the key ring; generate a key with a new id`);
  }
  checkSecretLength(key, `key '${key.id}'`);

  return ringOf(new Map([[key.id, key], ...orderedKeys(ring).map((k) => [k.id, k] as const)]));
}

/** Loads the key ring from the environment, or from (creating if missing) the default file. */
export async function loadKeyRing(options: {
  env?: NodeJS.ProcessEnv;
  defaultFile?: string;
}): Promise<{ ring: KeyRing; source: string }> {
  const env = options.env ?? process.env;

  const inline = env[ENV_RING];
  if (inline !== undefined && inline.trim() !== '') {
    return { ring: parseKeyRing(inline, ENV_RING), source: ENV_RING };
  }
  const file = env[ENV_FILE];
  if (file !== undefined && file.trim() !== '') {
    return { ring: parseKeyRing(await readKeyFile(file, ENV_FILE), file), source: file };
  }
  if (options.defaultFile !== undefined) {
    return { ring: await loadDefaultFile(options.defaultFile), source: options.defaultFile };
  }

  throw invalid(
    `No state key ring is configured; set ${ENV_RING} to the ring itself or ${ENV_FILE} to ` +
      `the path of a file holding it (${FORMAT_HINT})`,
  );
}

/** Writes a key ring to `path` atomically (a temporary file renamed over it) with mode 0600. */
export async function writeKeyRingFile(path: string, ring: KeyRing): Promise<void> {
  const temporary = await writeTemporary(path, ring);
  try {
    await rename(temporary, path);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
}

function splitEntries(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.replace(/#.*$/, ''))
    .flatMap((line) => line.split(','))
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
}

function parseEntry(entry: string, position: number, source: string): StateKey {
  const where = `State key entry ${position} in '${source}'`;
  const colon = entry.indexOf(':');
  if (colon < 0) throw invalid(`${where} has no 'id:' prefix; ${FORMAT_HINT}`);

  // The id is only quoted once it is known to look like an id, since a malformed entry could
  // be key material pasted in the wrong place.
  const id = entry.slice(0, colon).trim();
  if (!KEY_ID_PATTERN.test(id)) throw invalid(`${where} has an invalid id; ${FORMAT_HINT}`);

  const encoded = entry.slice(colon + 1).trim();
  if (!BASE64_PATTERN.test(encoded)) {
    throw invalid(`${where} (key '${id}') is not valid base64; ${FORMAT_HINT}`);
  }
  const key = { id, secret: Buffer.from(encoded, 'base64') };
  checkSecretLength(key, `${where} (key '${id}')`);
  return key;
}

function checkSecretLength(key: StateKey, what: string): void {
  if (key.secret.length !== STATE_KEY_BYTES) {
    throw invalid(
      `${what} decodes to ${key.secret.length} bytes instead of ${STATE_KEY_BYTES}; ` +
        `${FORMAT_HINT}. Generate one with \`openssl rand -base64 32\``,
    );
  }
}

function ringOf(keys: ReadonlyMap<string, StateKey>): KeyRing {
  const active = keys.values().next().value;
  if (active === undefined) throw invalid('A state key ring needs at least one key');
  return { active, keys };
}

function orderedKeys(ring: KeyRing): StateKey[] {
  return [ring.active, ...[...ring.keys.values()].filter((key) => key.id !== ring.active.id)];
}

async function readKeyFile(path: string, origin: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw invalid(
      `The state key file '${path}' (from ${origin}) cannot be read (${errorCode(error)}); ` +
        'check the path and its permissions',
      error,
    );
  }
}

async function loadDefaultFile(path: string): Promise<KeyRing> {
  const existing = await readDefaultFile(path);
  if (existing !== undefined) return parseKeyRing(existing, path);

  const key = generateStateKey();
  const created = await createKeyRingFile(path, ringOf(new Map([[key.id, key]])));
  return created ?? parseKeyRing((await readDefaultFile(path)) ?? '', path);
}

/** Creates the file only if it does not exist yet; undefined when another process won the race. */
async function createKeyRingFile(path: string, ring: KeyRing): Promise<KeyRing | undefined> {
  const temporary = await writeTemporary(path, ring);
  try {
    // link() never replaces an existing file, so two processes starting at once agree on one key.
    await link(temporary, path);
    return ring;
  } catch (error) {
    if (errorCode(error) === 'EEXIST') return undefined;
    throw invalid(`The state key file '${path}' cannot be created (${errorCode(error)})`, error);
  } finally {
    await unlink(temporary).catch(() => undefined);
  }
}

async function readDefaultFile(path: string): Promise<string | undefined> {
  let mode: number;
  try {
    mode = (await stat(path)).mode;
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw invalid(`The state key file '${path}' cannot be read (${errorCode(error)})`, error);
  }

  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    throw invalid(
      `The state key file '${path}' is open to group or other users (mode ` +
        `${(mode & 0o777).toString(8)}); restrict it with \`chmod 600 '${path}'\``,
    );
  }
  return readKeyFile(path, 'the default location');
}

async function writeTemporary(path: string, ring: KeyRing): Promise<string> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });

  const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(temporary, 'wx', 0o600);
  try {
    await handle.writeFile(FILE_HEADER + formatKeyRing(ring));
    await handle.sync();
    // The umask can only remove bits from 0600; the explicit chmod keeps the guarantee plain.
    await handle.chmod(0o600);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  } finally {
    await handle.close();
  }
  return temporary;
}

function invalid(message: string, cause?: unknown): SluiceError {
  return new SluiceError('state_key_invalid', message, { cause });
}

function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : 'unknown error';
}
