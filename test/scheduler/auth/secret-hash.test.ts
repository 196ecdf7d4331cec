import { describe, expect, it } from 'vitest';
import {
  hashClientSecret,
  newClientSecret,
  spendSecretCheck,
  verifyClientSecret,
} from '../../../src/scheduler/auth/secret-hash.js';

describe('client secret hashing', () => {
  it('makes secrets of 32 random bytes behind an ss_ prefix, different each time', () => {
    const first = newClientSecret();
    const second = newClientSecret();

    expect(first).toMatch(/^ss_[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(first.slice(3), 'base64url')).toHaveLength(32);
    expect(second).not.toBe(first);
  });

  it('stores a self-describing scrypt hash that verifies the secret it was made from', async () => {
    const secret = newClientSecret();

    const encoded = await hashClientSecret(secret);

    expect(encoded).toMatch(/^scrypt\$14\$8\$1\$[A-Za-z0-9_-]+\$[A-Za-z0-9_-]+$/);
    expect(encoded).not.toContain(secret.slice(3));
    expect(await verifyClientSecret(secret, encoded)).toBe(true);
  });

  it('salts every hash, so one secret hashed twice gives two different encodings', async () => {
    const secret = newClientSecret();

    const [first, second] = await Promise.all([hashClientSecret(secret), hashClientSecret(secret)]);

    expect(first).not.toBe(second);
    expect(await verifyClientSecret(secret, second)).toBe(true);
  });

  it('rejects a wrong secret', async () => {
    const encoded = await hashClientSecret(newClientSecret());

    expect(await verifyClientSecret(newClientSecret(), encoded)).toBe(false);
    expect(await verifyClientSecret('', encoded)).toBe(false);
  });

  it('rejects the right secret against an encoding whose hash or salt was changed', async () => {
    const secret = newClientSecret();
    const encoded = await hashClientSecret(secret);
    const parts = encoded.split('$');
    const flip = (text: string) => `${text.startsWith('A') ? 'B' : 'A'}${text.slice(1)}`;

    const hashChanged = [...parts.slice(0, 5), flip(parts[5] ?? '')].join('$');
    const saltChanged = [...parts.slice(0, 4), flip(parts[4] ?? ''), parts[5]].join('$');

    expect(await verifyClientSecret(secret, hashChanged)).toBe(false);
    expect(await verifyClientSecret(secret, saltChanged)).toBe(false);
  });

  it('rejects encodings that do not parse or ask for parameters out of bounds', async () => {
    const secret = newClientSecret();
    const [, , , , salt, hash] = (await hashClientSecret(secret)).split('$');
    const broken = [
      '',
      'plain',
      `bcrypt$14$8$1$${salt}$${hash}`,
      `scrypt$14$8$1$${salt}`,
      `scrypt$30$8$1$${salt}$${hash}`,
      `scrypt$14$0$1$${salt}$${hash}`,
      `scrypt$x$8$1$${salt}$${hash}`,
      `scrypt$14$8$1$${salt}$not+base64url`,
      `scrypt$14$8$1$${salt}$${hash}$extra`,
    ];

    for (const encoded of broken) {
      expect(await verifyClientSecret(secret, encoded), encoded).toBe(false);
    }
  });

  it('spends a check for an unknown client without failing', async () => {
    await expect(spendSecretCheck()).resolves.toBeUndefined();
  });
});
