import { randomBytes } from 'node:crypto';

/**
 * Row ids that sort by creation time: 26 characters of Crockford base32, the first 10 holding
 * the milliseconds since 1970 and the last 16 eighty random bits. Within one process ids are
 * strictly increasing: in the same millisecond (or if the clock steps back) the random part of
 * the previous id is incremented instead of drawn again.
 */

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const ID_LENGTH = 26;
const RANDOM_BITS = 80n;
const RANDOM_LIMIT = 1n << RANDOM_BITS;

let lastTimeMs = -1;
let lastRandom = 0n;

/** A new id, greater than every id this process generated before. */
export function newRowId(nowMs: number = Date.now()): string {
  if (nowMs > lastTimeMs) {
    lastTimeMs = nowMs;
    lastRandom = BigInt(`0x${randomBytes(10).toString('hex')}`);
  } else {
    lastRandom += 1n;
    if (lastRandom >= RANDOM_LIMIT) {
      lastTimeMs += 1;
      lastRandom = 0n;
    }
  }
  return encode((BigInt(lastTimeMs) << RANDOM_BITS) | lastRandom);
}

function encode(value: bigint): string {
  let rest = value;
  const characters: string[] = [];
  for (let index = 0; index < ID_LENGTH; index++) {
    characters.push(ALPHABET[Number(rest & 31n)] ?? '0');
    rest >>= 5n;
  }
  return characters.reverse().join('');
}
