import { describe, expect, it } from 'vitest';
import { SluiceError } from '../../src/core/errors.js';
import {
  normaliseTableName,
  parseQualifiedName,
  splitQualifiedName,
} from '../../src/core/names.js';

describe('normaliseTableName', () => {
  it('lower-cases unquoted parts and keeps quoted parts as written', () => {
    const parts = [
      { text: 'Shop', quoted: false },
      { text: 'Daily Revenue', quoted: true },
    ];

    expect(normaliseTableName(parts)).toBe('shop.Daily Revenue');
  });
});

describe('parseQualifiedName', () => {
  it('normalises a dotted name', () => {
    expect(parseQualifiedName('Shop.Orders')).toBe('shop.orders');
  });

  it('keeps quoted parts and unescapes doubled quotes', () => {
    expect(parseQualifiedName('"My Schema".x')).toBe('My Schema.x');
    expect(parseQualifiedName('"a ""b""".C')).toBe('a "b".c');
  });

  it('accepts spaces around the dots and a three-part name', () => {
    expect(parseQualifiedName(' warehouse . shop . orders ')).toBe('warehouse.shop.orders');
  });

  it('rejects text that is not a name, saying how to write one', () => {
    for (const text of ['', 'shop.', '.orders', 'shop..orders', 'shop orders', '"open', '1abc']) {
      expect(() => parseQualifiedName(text), text).toThrow(SluiceError);
    }
    expect(() => parseQualifiedName('shop orders')).toThrow(/write it as schema\.table/);
  });

  it('splits a name into its parts, remembering which were quoted', () => {
    expect(splitQualifiedName('a."B"')).toEqual([
      { text: 'a', quoted: false },
      { text: 'B', quoted: true },
    ]);
  });
});
