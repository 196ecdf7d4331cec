import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  loadKeyRing,
  parseKeyRing,
  withNewActiveKey,
  writeKeyRingFile,
} from '../../../src/state/crypto/key-ring.js';

const isPosix = process.platform !== 'win32';
const envKey = randomBytes(32).toString('base64');
const fileKey = randomBytes(32).toString('base64');
const defaultKey = randomBytes(32).toString('base64');

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-keys-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function writeKeyFile(name: string, text: string, mode = 0o600): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text, { mode });
  await chmod(path, mode);
  return path;
}

function modeOf(stats: { mode: number }): number {
  return stats.mode & 0o777;
}

describe('loadKeyRing', () => {
  it('prefers SLUICE_STATE_KEYS over the key file and the default file', async () => {
    const file = await writeKeyFile('keys', `file:${fileKey}\n`);
    const defaultFile = await writeKeyFile('default', `default:${defaultKey}\n`);
    const env = { SLUICE_STATE_KEYS: `env:${envKey}`, SLUICE_STATE_KEYS_FILE: file };

    const loaded = await loadKeyRing({ env, defaultFile });

    expect(loaded.ring.active.id).toBe('env');
    expect(loaded.source).toBe('SLUICE_STATE_KEYS');
  });

  it('prefers SLUICE_STATE_KEYS_FILE over the default file', async () => {
    const file = await writeKeyFile('keys', `file:${fileKey}\n`);
    const defaultFile = await writeKeyFile('default', `default:${defaultKey}\n`);

    const loaded = await loadKeyRing({ env: { SLUICE_STATE_KEYS_FILE: file }, defaultFile });

    expect(loaded.ring.active.id).toBe('file');
    expect(loaded.source).toBe(file);
  });

  it('treats an empty SLUICE_STATE_KEYS as unset', async () => {
    const defaultFile = await writeKeyFile('default', `default:${defaultKey}\n`);

    const loaded = await loadKeyRing({ env: { SLUICE_STATE_KEYS: '  ' }, defaultFile });

    expect(loaded.ring.active.id).toBe('default');
    expect(loaded.source).toBe(defaultFile);
  });

  it('names the source in parse errors', async () => {
    const file = await writeKeyFile('keys', 'file:c2hvcnQ=\n');

    await expect(loadKeyRing({ env: { SLUICE_STATE_KEYS_FILE: file } })).rejects.toThrow(
      `State key entry 1 in '${file}' (key 'file') decodes to 5 bytes`,
    );
  });

  it('reports a missing key file named by the environment', async () => {
    const file = join(dir, 'absent');

    await expect(loadKeyRing({ env: { SLUICE_STATE_KEYS_FILE: file } })).rejects.toMatchObject({
      code: 'state_key_invalid',
      message: expect.stringContaining(`'${file}' (from SLUICE_STATE_KEYS_FILE) cannot be read`),
    });
  });

  it('fails with a clear message when nothing is configured', async () => {
    await expect(loadKeyRing({ env: {} })).rejects.toMatchObject({
      code: 'state_key_invalid',
      message: expect.stringContaining('No state key ring is configured; set SLUICE_STATE_KEYS'),
    });
  });

  it.runIf(isPosix)('creates a missing default file with mode 0600 in a 0700 folder', async () => {
    const defaultFile = join(dir, '.sluice', 'state.keys');

    const first = await loadKeyRing({ env: {}, defaultFile });
    const second = await loadKeyRing({ env: {}, defaultFile });

    expect(first.source).toBe(defaultFile);
    expect(first.ring.active.id).toMatch(/^k\d{8}[0-9a-f]{4}$/);
    expect(second.ring.active.secret.equals(first.ring.active.secret)).toBe(true);
    expect(modeOf(await stat(defaultFile))).toBe(0o600);
    expect(modeOf(await stat(join(dir, '.sluice')))).toBe(0o700);
    expect(await readdir(join(dir, '.sluice'))).toEqual(['state.keys']);
  });

  it('agrees on one key when several loaders create the default file at once', async () => {
    const defaultFile = join(dir, 'state.keys');

    const loaded = await Promise.all(
      Array.from({ length: 8 }, () => loadKeyRing({ env: {}, defaultFile })),
    );

    const secrets = new Set(loaded.map(({ ring }) => ring.active.secret.toString('hex')));
    expect(secrets.size).toBe(1);
    expect(await readdir(dir)).toEqual(['state.keys']);
  });

  it.runIf(isPosix)('refuses a default file readable by others, saying to chmod 600', async () => {
    const defaultFile = await writeKeyFile('state.keys', `k1:${defaultKey}\n`, 0o644);

    const error = await loadKeyRing({ env: {}, defaultFile }).catch((caught: unknown) => caught);

    expect(error).toMatchObject({ code: 'state_key_invalid' });
    const message = (error as Error).message;
    expect(message).toContain(`mode 644); restrict it with \`chmod 600 '${defaultFile}'\``);
    expect(message).not.toContain(defaultKey);
  });
});

describe('writeKeyRingFile', () => {
  it('replaces the file atomically with mode 0600 and leaves no temporary file', async () => {
    const path = await writeKeyFile('state.keys', `k1:${fileKey}\n`);
    const ring = withNewActiveKey(parseKeyRing(`k1:${fileKey}`, path), {
      id: 'k2',
      secret: randomBytes(32),
    });

    await writeKeyRingFile(path, ring);

    const reread = await loadKeyRing({ env: {}, defaultFile: path });
    expect([...reread.ring.keys.keys()]).toEqual(['k2', 'k1']);
    expect(await readFile(path, 'utf8')).toMatch(/^# Sluice state keys/);
    expect(await readdir(dir)).toEqual(['state.keys']);
    if (isPosix) expect(modeOf(await stat(path))).toBe(0o600);
  });
});
