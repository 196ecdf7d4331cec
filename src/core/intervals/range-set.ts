/**
 * Sets of half-open time ranges `[startMs, endMs)`, kept as sorted, disjoint, non-adjacent arrays.
 * Every operation takes arrays in any order, merges them (O(n log n)), then sweeps once (O(n)), so
 * the cost depends on the number of ranges, never on how many intervals they cover.
 */

/** A half-open range of UTC epoch milliseconds, `[startMs, endMs)`. */
export type TimeRange = readonly [startMs: number, endMs: number];

/** The ranges sorted, with overlapping and adjacent ones joined and empty ones dropped. */
export function mergeRanges(ranges: readonly TimeRange[]): TimeRange[] {
  const sorted = isSortedAndDisjoint(ranges) ? ranges : [...ranges].sort(byStart);

  const merged: [number, number][] = [];
  for (const [startMs, endMs] of sorted) {
    if (endMs <= startMs) continue;
    const last = merged[merged.length - 1];
    if (last !== undefined && startMs <= last[1]) last[1] = Math.max(last[1], endMs);
    else merged.push([startMs, endMs]);
  }
  return merged;
}

/** Every instant in either set. */
export function unionRanges(a: readonly TimeRange[], b: readonly TimeRange[]): TimeRange[] {
  return mergeRanges([...a, ...b]);
}

/** Every instant of `from` that is not in `remove`. */
export function subtractRanges(
  from: readonly TimeRange[],
  remove: readonly TimeRange[],
): TimeRange[] {
  const kept = mergeRanges(from);
  const removed = mergeRanges(remove);

  const result: TimeRange[] = [];
  let index = 0;
  for (const [startMs, endMs] of kept) {
    let cursorMs = startMs;
    while (index < removed.length && (removed[index]?.[1] ?? 0) <= cursorMs) index++;
    for (let at = index; at < removed.length && cursorMs < endMs; at++) {
      const [removeStartMs, removeEndMs] = removed[at] ?? [endMs, endMs];
      if (removeStartMs >= endMs) break;
      if (removeStartMs > cursorMs) result.push([cursorMs, removeStartMs]);
      cursorMs = Math.max(cursorMs, removeEndMs);
    }
    if (cursorMs < endMs) result.push([cursorMs, endMs]);
  }
  return result;
}

/** Every instant in both sets. */
export function intersectRanges(a: readonly TimeRange[], b: readonly TimeRange[]): TimeRange[] {
  const left = mergeRanges(a);
  const right = mergeRanges(b);

  const result: TimeRange[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length && j < right.length) {
    const [leftStartMs, leftEndMs] = left[i] ?? [0, 0];
    const [rightStartMs, rightEndMs] = right[j] ?? [0, 0];
    const startMs = Math.max(leftStartMs, rightStartMs);
    const endMs = Math.min(leftEndMs, rightEndMs);
    if (startMs < endMs) result.push([startMs, endMs]);
    if (leftEndMs <= rightEndMs) i++;
    else j++;
  }
  return result;
}

/** The milliseconds the set covers, counting overlaps once. */
export function totalLengthMs(ranges: readonly TimeRange[]): number {
  return mergeRanges(ranges).reduce((sum, [startMs, endMs]) => sum + (endMs - startMs), 0);
}

function byStart(a: TimeRange, b: TimeRange): number {
  return a[0] - b[0] || a[1] - b[1];
}

/** A quick check that lets already merged input skip the sort. */
function isSortedAndDisjoint(ranges: readonly TimeRange[]): boolean {
  for (let index = 1; index < ranges.length; index++) {
    const [previousStartMs, previousEndMs] = ranges[index - 1] ?? [0, 0];
    if ((ranges[index]?.[0] ?? 0) < Math.max(previousStartMs, previousEndMs)) return false;
  }
  return true;
}
