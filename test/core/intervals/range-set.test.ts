import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  intersectRanges,
  mergeRanges,
  subtractRanges,
  type TimeRange,
  totalLengthMs,
  unionRanges,
} from '../../../src/core/intervals/range-set.js';

/** Small integer ranges, possibly empty, overlapping or reversed. */
const ranges = fc.array(
  fc
    .tuple(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 40 }))
    .map(([a, b]): TimeRange => (a <= b ? [a, b] : [b, a])),
  { maxLength: 8 },
);

const SIZE = 41;

/** The brute-force model: which of the points 0..40 a set covers. */
function bitmap(set: readonly TimeRange[]): boolean[] {
  const bits = Array.from({ length: SIZE }, () => false);
  for (const [start, end] of set) for (let at = start; at < end; at++) bits[at] = true;
  return bits;
}

/** A set is canonical when sorted, non-empty, and neither overlapping nor touching. */
function isCanonical(set: readonly TimeRange[]): boolean {
  return set.every(
    ([start, end], index) => start < end && (index === 0 || (set[index - 1]?.[1] ?? 0) < start),
  );
}

describe('range sets', () => {
  it('merges overlapping and adjacent ranges and drops empty ones', () => {
    expect(
      mergeRanges([
        [10, 20],
        [0, 5],
        [5, 7],
        [15, 25],
        [30, 30],
        [40, 41],
      ]),
    ).toEqual([
      [0, 7],
      [10, 25],
      [40, 41],
    ]);
  });

  it('subtracts processed ranges from an expected one, leaving the gaps', () => {
    const processed: TimeRange[] = [
      [10, 20],
      [30, 40],
      [0, 5],
    ];

    expect(subtractRanges([[0, 50]], processed)).toEqual([
      [5, 10],
      [20, 30],
      [40, 50],
    ]);
  });

  it('intersects and measures sets', () => {
    expect(
      intersectRanges(
        [
          [0, 10],
          [20, 30],
        ],
        [[5, 25]],
      ),
    ).toEqual([
      [5, 10],
      [20, 25],
    ]);
    expect(
      totalLengthMs([
        [0, 10],
        [5, 15],
      ]),
    ).toBe(15);
  });

  it('agrees with a bitmap on union, subtraction and intersection', () => {
    fc.assert(
      fc.property(ranges, ranges, (a, b) => {
        const [bitsA, bitsB] = [bitmap(a), bitmap(b)];
        const union = unionRanges(a, b);
        const difference = subtractRanges(a, b);
        const intersection = intersectRanges(a, b);

        expect(bitmap(union)).toEqual(bitsA.map((bit, at) => bit || bitsB[at]));
        expect(bitmap(difference)).toEqual(bitsA.map((bit, at) => bit && !bitsB[at]));
        expect(bitmap(intersection)).toEqual(bitsA.map((bit, at) => bit && bitsB[at]));
        expect([union, difference, intersection].every(isCanonical)).toBe(true);
      }),
    );
  });

  it('merges to the same canonical set whatever the order of the input', () => {
    fc.assert(
      fc.property(ranges, (set) => {
        const merged = mergeRanges(set);

        expect(isCanonical(merged)).toBe(true);
        expect(mergeRanges([...set].reverse())).toEqual(merged);
        expect(bitmap(merged)).toEqual(bitmap(set));
        expect(totalLengthMs(set)).toBe(bitmap(set).filter(Boolean).length);
      }),
    );
  });

  it('subtracts a thousand gaps from decades of five-minute intervals by their count alone', () => {
    const startMs = Date.UTC(2000, 0, 1);
    const dayMs = 86_400_000;
    const processed: TimeRange[] = Array.from({ length: 1000 }, (_, index) => [
      startMs + index * 9 * dayMs,
      startMs + (index * 9 + 8) * dayMs,
    ]);

    const missing = subtractRanges([[startMs, Date.UTC(2026, 0, 1)]], processed);

    expect(missing).toHaveLength(1000);
    expect(missing[0]).toEqual([startMs + 8 * dayMs, startMs + 9 * dayMs]);
  });
});
