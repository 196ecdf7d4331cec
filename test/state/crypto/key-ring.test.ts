import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SluiceError } from '../../../src/core/errors.js';
import {
  formatKeyRing,
  generateStateKey,
  parseKeyRing,
  withNewActiveKey,
} from '../../../src/state/crypto/key-ring.js';

const secretA = randomBytes(32);
const secretB = randomBytes(32);
const a64 = secretA.toString('base64');
const b64 = secretB.toString('base64');

function parseError(text: string): SluiceError {
  try {
    parseKeyRing(text, 'SLUICE_STATE_KEYS');
  } catch (error) {
    if (error instanceof SluiceError) return error;
    throw error;
  }
  throw new Error('expected parseKeyRing to fail');
}

describe('parseKeyRing', () => {
  it('reads comma-separated entries and makes the first one active', () => {
    const ring = parseKeyRing(`k1:${a64}, k2:${b64}`, 'SLUICE_STATE_KEYS');

    expect(ring.active.id).toBe('k1');
    expect(ring.active.secret.equals(secretA)).toBe(true);
    expect([...ring.keys.keys()]).toEqual(['k1', 'k2']);
    expect(ring.keys.get('k2')?.secret.equals(secretB)).toBe(true);
  });

  it('reads a file with newlines, blank lines and comments', () => {
    const text = `# state keys\n\nk2:${b64}   # rotated in January\r\n\n# old\nk1:${a64}\n`;
    const ring = parseKeyRing(text, '/etc/sluice/keys');

    expect(ring.active.id).toBe('k2');
    expect([...ring.keys.keys()]).toEqual(['k2', 'k1']);
  });

  it('accepts url-safe base64 and missing padding', () => {
    const urlSafe = secretA.toString('base64url');
    const ring = parseKeyRing(`k1:${urlSafe}`, 'SLUICE_STATE_KEYS');

    expect(ring.active.secret.equals(secretA)).toBe(true);
  });

  it('rejects an empty ring, saying the expected format', () => {
    const error = parseError(' \n# nothing here\n , ');

    expect(error.code).toBe('state_key_invalid');
    expect(error.message).toContain('holds no keys');
    expect(error.message).toContain("'id:base64'");
  });

  it('rejects bad base64, naming the entry position and id but not the key', () => {
    const error = parseError(`k1:${a64},k2:not*base64!`);

    expect(error.code).toBe('state_key_invalid');
    expect(error.message).toContain('entry 2');
    expect(error.message).toContain("key 'k2'");
    expect(error.message).toContain('not valid base64');
    expect(error.message).not.toContain('not*base64!');
    expect(error.message).not.toContain(a64);
  });

  it('rejects a key of the wrong length, saying how many bytes it has', () => {
    const short = randomBytes(16).toString('base64');
    const error = parseError(`k1:${short}`);

    expect(error.message).toContain('16 bytes instead of 32');
    expect(error.message).toContain('openssl rand -base64 32');
    expect(error.message).not.toContain(short);
  });

  it('rejects an entry without an id, without echoing it', () => {
    const error = parseError(a64);

    expect(error.message).toContain("entry 1 in 'SLUICE_STATE_KEYS' has no 'id:' prefix");
    expect(error.message).not.toContain(a64);
  });

  it('rejects an invalid id without quoting it, since it may be key material', () => {
    const error = parseError(`${b64.slice(0, 10)}+/:${a64}`);

    expect(error.message).toContain('has an invalid id');
    expect(error.message).not.toContain(b64.slice(0, 10));
  });

  it('rejects a duplicate id', () => {
    const error = parseError(`k1:${a64}\nk1:${b64}`);

    expect(error.message).toContain("State key 'k1' appears twice");
    expect(error.message).toContain('entry 2');
    expect(error.message).not.toContain(b64);
  });
});

describe('formatKeyRing', () => {
  it('writes text that parses back to the same ring, active key first', () => {
    const ring = withNewActiveKey(parseKeyRing(`k1:${a64}`, 'test'), { id: 'k2', secret: secretB });

    const text = formatKeyRing(ring);
    const again = parseKeyRing(text, 'test');

    expect(text).toBe(`k2:${b64}\nk1:${a64}\n`);
    expect(again.active.id).toBe('k2');
    expect([...again.keys.values()].map((key) => key.secret.toString('hex'))).toEqual([
      secretB.toString('hex'),
      secretA.toString('hex'),
    ]);
  });
});

describe('generateStateKey', () => {
  it('makes a 32-byte random key whose id carries the date', () => {
    const now = new Date('2025-01-31T12:00:00Z');
    const first = generateStateKey(now);
    const second = generateStateKey(now);

    expect(first.id).toMatch(/^k20250131[0-9a-f]{4}$/);
    expect(first.secret).toHaveLength(32);
    expect(first.secret.equals(second.secret)).toBe(false);
  });

  it('makes keys that the parser accepts', () => {
    const key = generateStateKey();
    const ring = parseKeyRing(`${key.id}:${key.secret.toString('base64')}`, 'test');

    expect(ring.active.id).toBe(key.id);
  });
});

describe('withNewActiveKey', () => {
  it('makes the new key active and keeps the old ones for reading', () => {
    const ring = parseKeyRing(`k1:${a64}`, 'test');
    const rotated = withNewActiveKey(ring, { id: 'k2', secret: secretB });

    expect(rotated.active.id).toBe('k2');
    expect([...rotated.keys.keys()]).toEqual(['k2', 'k1']);
    expect(ring.active.id).toBe('k1');
  });

  it('refuses a key whose id is already in the ring', () => {
    const ring = parseKeyRing(`k1:${a64}`, 'test');

    expect(() => withNewActiveKey(ring, { id: 'k1', secret: secretB })).toThrow(
      "State key 'k1' is already in the key ring",
    );
  });

  it('refuses a key whose id the parser would not accept', () => {
    const ring = parseKeyRing(`k1:${a64}`, 'test');

    expect(() => withNewActiveKey(ring, { id: 'new key', secret: secretB })).toThrow(
      'A new state key has an invalid id',
    );
  });

  it('refuses a key of the wrong length', () => {
    const ring = parseKeyRing(`k1:${a64}`, 'test');

    expect(() => withNewActiveKey(ring, { id: 'k2', secret: randomBytes(8) })).toThrow(
      '8 bytes instead of 32',
    );
  });
});
