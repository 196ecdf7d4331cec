import { randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from 'node:crypto';

/**
 * Client secrets and their stored form. A secret is 32 random bytes, so no dictionary can guess
 * it; the state keeps only a slow, salted scrypt hash so that a copy of the state does not hand
 * out working credentials cheaply. The parameters are N = 2^14, r = 8, p = 1 (16 MiB of memory):
 * one hash took about 70 ms on the 2-core build machine (2^13 took 35 ms, 2^15 took 170-200 ms).
 * The hash runs on libuv's thread pool, so the event loop stays free while it works. The encoding
 * names its parameters (`scrypt$14$8$1$<salt>$<hash>`), so they can be raised later without
 * invalidating secrets already issued.
 */

const SECRET_PREFIX = 'ss_';
const SECRET_BYTES = 32;
const SALT_BYTES = 16;
const HASH_BYTES = 32;

type ScryptParameters = { readonly logN: number; readonly r: number; readonly p: number };

const CURRENT: ScryptParameters = { logN: 14, r: 8, p: 1 };

/** Bounds on parameters read back from the state, so an edited row cannot exhaust memory. */
const LIMITS = { logN: [10, 20], r: [1, 32], p: [1, 16] } as const;

/** A new client secret: `ss_` and 32 random bytes in base64url. */
export function newClientSecret(): string {
  return `${SECRET_PREFIX}${randomBytes(SECRET_BYTES).toString('base64url')}`;
}

/** The stored form of a secret: `scrypt$logN$r$p$<salt base64url>$<hash base64url>`. */
export async function hashClientSecret(secret: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const hash = await derive(secret, salt, CURRENT, HASH_BYTES);
  const { logN, r, p } = CURRENT;
  return ['scrypt', logN, r, p, salt.toString('base64url'), hash.toString('base64url')].join('$');
}

/**
 * Whether `secret` matches the stored form, compared in constant time. A stored form that does
 * not parse never matches; the hash cost is spent anyway so that it is not faster to find out.
 */
export async function verifyClientSecret(secret: string, encoded: string): Promise<boolean> {
  const parsed = parseEncoded(encoded);
  if (parsed === undefined) {
    await spendSecretCheck();
    return false;
  }

  const candidate = await derive(secret, parsed.salt, parsed.parameters, parsed.hash.length);
  return timingSafeEqual(candidate, parsed.hash);
}

/** Spends the cost of one check, for a client that does not exist: no timing tells it apart. */
export async function spendSecretCheck(): Promise<void> {
  await derive('', randomBytes(SALT_BYTES), CURRENT, HASH_BYTES);
}

type ParsedHash = {
  readonly parameters: ScryptParameters;
  readonly salt: Buffer;
  readonly hash: Buffer;
};

function parseEncoded(encoded: string): ParsedHash | undefined {
  const parts = encoded.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return undefined;

  const [logN, r, p] = parts
    .slice(1, 4)
    .map((part) => (/^\d{1,2}$/.test(part) ? Number(part) : NaN));
  const parameters = { logN: logN ?? NaN, r: r ?? NaN, p: p ?? NaN };
  if (!isWithinLimits(parameters)) return undefined;

  const salt = decodeBase64url(parts[4] ?? '');
  const hash = decodeBase64url(parts[5] ?? '');
  if (salt === undefined || hash === undefined) return undefined;
  if (!isBetween(salt.length, 8, 64) || !isBetween(hash.length, 16, 64)) return undefined;
  return { parameters, salt, hash };
}

function isWithinLimits(parameters: ScryptParameters): boolean {
  return (Object.keys(LIMITS) as (keyof ScryptParameters)[]).every((name) => {
    const [low, high] = LIMITS[name];
    const value = parameters[name];
    return Number.isInteger(value) && isBetween(value, low, high);
  });
}

function isBetween(value: number, low: number, high: number): boolean {
  return value >= low && value <= high;
}

function decodeBase64url(text: string): Buffer | undefined {
  return /^[A-Za-z0-9_-]+$/.test(text) ? Buffer.from(text, 'base64url') : undefined;
}

function derive(
  secret: string,
  salt: Buffer,
  parameters: ScryptParameters,
  length: number,
): Promise<Buffer> {
  const N = 2 ** parameters.logN;
  const options: ScryptOptions = {
    N,
    r: parameters.r,
    p: parameters.p,
    // scrypt needs 128 * N * r * p bytes; the default cap of 32 MiB is too low for stronger
    // parameters read back from the state.
    maxmem: 256 * N * parameters.r * parameters.p + 1024 * 1024,
  };

  return new Promise((resolve, reject) => {
    scrypt(secret, salt, length, options, (error, key) => (error ? reject(error) : resolve(key)));
  });
}
