/**
 * A line-based unified diff, as `diff -u` and `git diff` print it, for showing how a model's SQL
 * changed in a plan. The edit script is Myers' shortest one, found after trimming the lines both
 * texts share at their start and end.
 */

/** How to label the two sides of a diff and how many unchanged lines to show around a change. */
export type UnifiedDiffOptions = {
  readonly oldLabel: string;
  readonly newLabel: string;
  /** Unchanged lines shown before and after each change; 3 when not given. */
  readonly context?: number;
};

/**
 * One line; the last line of a text may lack its newline, and then differs from one that has it.
 */
type Line = { readonly text: string; readonly hasNewline: boolean };

type Edit = { readonly kind: 'equal' | 'delete' | 'insert'; readonly line: Line };

/** A run of edits printed under one `@@` header; the starts are 0-based line indexes. */
type Hunk = {
  readonly oldStart: number;
  readonly newStart: number;
  readonly edits: readonly Edit[];
};

const DEFAULT_CONTEXT = 3;

/**
 * Limits on the search for a shortest edit script. Myers' search costs O((N+M)·D) time and, as
 * written here, O(D²) memory for D inserted plus deleted lines, so it gives up past 2,000 edits,
 * or fewer when the texts are so long that (N+M)·D would pass MAX_SEARCH_STEPS. Past the limit
 * the lines between the common start and end are shown as all deleted and all inserted instead:
 * a correct diff, merely longer than it could be. Model files stay far below it.
 */
const MAX_EDIT_DISTANCE = 2000;
const MAX_SEARCH_STEPS = 20_000_000;

/** A unified diff of two texts (`---`/`+++` labels, then `@@` hunks), or '' when they are equal. */
export function unifiedDiff(oldText: string, newText: string, options: UnifiedDiffOptions): string {
  if (oldText === newText) return '';

  const edits = diffLines(splitLines(oldText), splitLines(newText));
  const context = Math.max(0, Math.floor(options.context ?? DEFAULT_CONTEXT));
  const hunks = groupHunks(edits, context);

  const header = [`--- ${options.oldLabel}`, `+++ ${options.newLabel}`];
  const lines = [...header, ...hunks.flatMap(formatHunk)];
  return lines.map((line) => `${line}\n`).join('');
}

function splitLines(text: string): Line[] {
  if (text === '') return [];
  const parts = text.split('\n');
  const hasFinalNewline = parts.at(-1) === '';
  if (hasFinalNewline) parts.pop();
  const lastIndex = parts.length - 1;
  return parts.map((part, index) => ({
    text: part,
    hasNewline: index < lastIndex || hasFinalNewline,
  }));
}

function isSameLine(a: Line | undefined, b: Line | undefined): boolean {
  return a !== undefined && b !== undefined && a.text === b.text && a.hasNewline === b.hasNewline;
}

/** The edit script turning `oldLines` into `newLines`, deletions before insertions in a change. */
function diffLines(oldLines: readonly Line[], newLines: readonly Line[]): Edit[] {
  let prefix = 0;
  while (isSameLine(oldLines[prefix], newLines[prefix])) prefix++;
  let suffix = 0;
  while (
    suffix < oldLines.length - prefix &&
    suffix < newLines.length - prefix &&
    isSameLine(oldLines[oldLines.length - 1 - suffix], newLines[newLines.length - 1 - suffix])
  ) {
    suffix++;
  }

  const oldMiddle = oldLines.slice(prefix, oldLines.length - suffix);
  const newMiddle = newLines.slice(prefix, newLines.length - suffix);
  const equal = (line: Line): Edit => ({ kind: 'equal', line });
  return [
    ...oldLines.slice(0, prefix).map(equal),
    ...(myersEdits(oldMiddle, newMiddle) ?? replaceAll(oldMiddle, newMiddle)),
    ...oldLines.slice(oldLines.length - suffix).map(equal),
  ];
}

function replaceAll(oldLines: readonly Line[], newLines: readonly Line[]): Edit[] {
  return [
    ...oldLines.map((line): Edit => ({ kind: 'delete', line })),
    ...newLines.map((line): Edit => ({ kind: 'insert', line })),
  ];
}

/**
 * Myers' greedy search for a shortest edit script, or undefined past the limits above. `frontier`
 * holds, per diagonal k = x - y (offset by `offset`), the furthest x reached; `trail` keeps the
 * part of each round's frontier that round could reach, to walk the path back.
 */
function myersEdits(oldLines: readonly Line[], newLines: readonly Line[]): Edit[] | undefined {
  const n = oldLines.length;
  const m = newLines.length;
  const maxDistance = Math.min(
    n + m,
    MAX_EDIT_DISTANCE,
    Math.floor(MAX_SEARCH_STEPS / Math.max(1, n + m)),
  );
  const offset = maxDistance + 1;
  const frontier = new Int32Array(2 * offset + 1);
  const trail: Int32Array[] = [];

  for (let distance = 0; distance <= maxDistance; distance++) {
    trail.push(frontier.slice(offset - distance, offset + distance + 1));
    for (let k = -distance; k <= distance; k += 2) {
      const isDown =
        k === -distance ||
        (k !== distance && (frontier[offset + k - 1] ?? 0) < (frontier[offset + k + 1] ?? 0));
      let x = isDown ? (frontier[offset + k + 1] ?? 0) : (frontier[offset + k - 1] ?? 0) + 1;
      while (x < n && x - k < m && isSameLine(oldLines[x], newLines[x - k])) x++;
      frontier[offset + k] = x;
      if (x >= n && x - k >= m) return walkBack(trail, oldLines, newLines);
    }
  }
  return undefined;
}

/** Rebuilds the edit script from the frontiers saved before each round of the search. */
function walkBack(
  trail: readonly Int32Array[],
  oldLines: readonly Line[],
  newLines: readonly Line[],
): Edit[] {
  const edits: Edit[] = [];
  let x = oldLines.length;
  let y = newLines.length;

  for (let distance = trail.length - 1; distance > 0; distance--) {
    const before = trail[distance] ?? new Int32Array();
    const at = (k: number) => before[k + distance] ?? 0;
    const k = x - y;
    const isDown = k === -distance || (k !== distance && at(k - 1) < at(k + 1));
    const previousK = isDown ? k + 1 : k - 1;
    const previousX = at(previousK);
    const previousY = previousX - previousK;

    while (x > previousX + (isDown ? 0 : 1) && y > previousY + (isDown ? 1 : 0)) {
      edits.push({ kind: 'equal', line: oldLines[--x] as Line });
      y--;
    }
    if (isDown) edits.push({ kind: 'insert', line: newLines[--y] as Line });
    else edits.push({ kind: 'delete', line: oldLines[--x] as Line });
  }
  while (x > 0) {
    edits.push({ kind: 'equal', line: oldLines[--x] as Line });
  }
  return edits.reverse();
}

/** Splits the edit script into hunks of changes with `context` lines around them. */
function groupHunks(edits: readonly Edit[], context: number): Hunk[] {
  const hunks: Hunk[] = [];
  let hunkStart = -1;
  let lastChange = -1;
  const positions = editPositions(edits);

  const close = () => {
    const end = Math.min(edits.length, lastChange + 1 + context);
    const first = positions[hunkStart] ?? { oldIndex: 0, newIndex: 0 };
    hunks.push({ ...toStarts(first), edits: edits.slice(hunkStart, end) });
  };

  for (const [index, edit] of edits.entries()) {
    if (edit.kind === 'equal') continue;
    if (hunkStart !== -1 && index - lastChange - 1 > 2 * context) close();
    if (hunkStart === -1 || index - lastChange - 1 > 2 * context) {
      hunkStart = Math.max(0, index - context);
    }
    lastChange = index;
  }
  if (hunkStart !== -1) close();
  return hunks;
}

function toStarts(position: { oldIndex: number; newIndex: number }) {
  return { oldStart: position.oldIndex, newStart: position.newIndex };
}

/** The old and new line index at which each edit sits. */
function editPositions(edits: readonly Edit[]): { oldIndex: number; newIndex: number }[] {
  let oldIndex = 0;
  let newIndex = 0;
  return edits.map((edit) => {
    const position = { oldIndex, newIndex };
    if (edit.kind !== 'insert') oldIndex++;
    if (edit.kind !== 'delete') newIndex++;
    return position;
  });
}

function formatHunk(hunk: Hunk): string[] {
  const oldCount = hunk.edits.filter((edit) => edit.kind !== 'insert').length;
  const newCount = hunk.edits.filter((edit) => edit.kind !== 'delete').length;
  const header = `@@ -${range(hunk.oldStart, oldCount)} +${range(hunk.newStart, newCount)} @@`;
  return [header, ...hunk.edits.flatMap(formatEdit)];
}

/**
 * A hunk's line range as diff prints it: `start,count`, the count left out when it is 1, and an
 * empty range numbered by the line before it (`0,0` at the top of the file).
 */
function range(startIndex: number, count: number): string {
  const start = count === 0 ? startIndex : startIndex + 1;
  return count === 1 ? `${start}` : `${start},${count}`;
}

const MARKS = { equal: ' ', delete: '-', insert: '+' } as const;

function formatEdit(edit: Edit): string[] {
  const line = `${MARKS[edit.kind]}${edit.line.text}`;
  return edit.line.hasNewline ? [line] : [line, '\\ No newline at end of file'];
}
