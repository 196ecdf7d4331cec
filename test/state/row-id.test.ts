import { describe, expect, it } from 'vitest';
import { newRowId } from '../../src/state/row-id.js';

describe('newRowId', () => {
  it('gives 26 characters of Crockford base32 that start with the time', () => {
    const id = newRowId(Date.UTC(2024, 0, 1));
    expect(id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(newRowId(Date.UTC(2030, 0, 1)).slice(0, 10) > id.slice(0, 10)).toBe(true);
  });

  it('gives strictly increasing ids within one millisecond and when the clock steps back', () => {
    const now = Date.now() + 60_000;
    const ids = [newRowId(now), newRowId(now), newRowId(now), newRowId(now - 5_000)];
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
