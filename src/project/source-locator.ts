import type { SourceLocation } from '../core/errors.js';

/** Turns offsets into one file's text into 1-based locations. */
export type SourceLocator = (offset: number) => Required<SourceLocation>;

/**
 * Creates a locator for one file. Line starts are found once, on first use, and each lookup is a
 * binary search, so locating every statement of a long file stays linear overall.
 */
export function createSourceLocator(file: string, text: string): SourceLocator {
  let lineStarts: number[] | undefined;

  return (offset) => {
    lineStarts ??= findLineStarts(text);
    const lineIndex = lastAtOrBefore(lineStarts, offset);
    const lineStart = lineStarts[lineIndex] ?? 0;
    return { file, line: lineIndex + 1, column: offset - lineStart + 1 };
  };
}

function findLineStarts(text: string): number[] {
  const starts = [0];
  for (let index = text.indexOf('\n'); index !== -1; index = text.indexOf('\n', index + 1)) {
    starts.push(index + 1);
  }
  return starts;
}

/** The index of the last value that is at most `offset`; `values` is sorted and starts at 0. */
function lastAtOrBefore(values: readonly number[], offset: number): number {
  let low = 0;
  let high = values.length - 1;
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if ((values[middle] ?? 0) <= offset) low = middle;
    else high = middle - 1;
  }
  return low;
}
