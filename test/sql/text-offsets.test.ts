import { describe, expect, it } from 'vitest';
import { createOffsetConverter } from '../../src/sql/text-offsets.js';

describe('createOffsetConverter', () => {
  it('leaves offsets in ASCII text unchanged', () => {
    const offsets = createOffsetConverter('SELECT 1');

    expect(offsets.fromByte(7)).toBe(7);
    expect(offsets.fromCodePoint(7)).toBe(7);
  });

  it('converts UTF-8 byte offsets past two-, three- and four-byte characters', () => {
    const text = 'é€😀x';

    const offsets = createOffsetConverter(text);

    expect([2, 5, 9, 10].map((byte) => offsets.fromByte(byte))).toEqual([1, 2, 4, 5]);
  });

  it('counts a character outside the Basic Multilingual Plane as one code point', () => {
    const text = '😀😀x';

    const offsets = createOffsetConverter(text);

    expect(offsets.fromCodePoint(2)).toBe(text.indexOf('x'));
  });
});
