import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IndexHeap } from '../../src/core/index-heap.js';

describe('IndexHeap', () => {
  it('returns undefined when empty', () => {
    expect(new IndexHeap().pop()).toBeUndefined();
  });

  it('pops any pushed numbers in ascending order', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(1000)), (values) => {
        const heap = new IndexHeap();
        for (const value of values) heap.push(value);

        const popped: number[] = [];
        for (let value = heap.pop(); value !== undefined; value = heap.pop()) popped.push(value);

        expect(popped).toEqual([...values].sort((a, b) => a - b));
        expect(heap.size).toBe(0);
      }),
    );
  });
});
