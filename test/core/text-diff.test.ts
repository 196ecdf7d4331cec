import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { unifiedDiff } from '../../src/core/text-diff.js';

const LABELS = { oldLabel: 'a/model.sql', newLabel: 'b/model.sql' };

function lines(...texts: string[]): string {
  return texts.map((text) => `${text}\n`).join('');
}

function numbered(count: number): string[] {
  return Array.from({ length: count }, (_, index) => `line ${index + 1}`);
}

describe('unifiedDiff', () => {
  it('returns an empty string when the texts are equal', () => {
    expect(unifiedDiff('', '', LABELS)).toBe('');
    expect(unifiedDiff(lines('a', 'b'), lines('a', 'b'), LABELS)).toBe('');
  });

  it('starts with the two labels', () => {
    const diff = unifiedDiff(lines('a'), lines('b'), LABELS);

    expect(diff.split('\n').slice(0, 2)).toEqual(['--- a/model.sql', '+++ b/model.sql']);
  });

  it('shows a changed line as a deletion then an insertion, with context around it', () => {
    const diff = unifiedDiff(lines('a', 'b', 'c'), lines('a', 'B', 'c'), LABELS);

    expect(diff).toBe(
      lines('--- a/model.sql', '+++ b/model.sql', '@@ -1,3 +1,3 @@', ' a', '-b', '+B', ' c'),
    );
  });

  it('shows inserted lines with the old range empty at the line before them', () => {
    const diff = unifiedDiff(lines('a', 'b'), lines('a', 'x', 'y', 'b'), { ...LABELS, context: 0 });

    expect(diff).toBe(lines('--- a/model.sql', '+++ b/model.sql', '@@ -1,0 +2,2 @@', '+x', '+y'));
  });

  it('shows deleted lines and leaves out a count of one', () => {
    const diff = unifiedDiff(lines('a', 'b', 'c'), lines('a', 'c'), { ...LABELS, context: 1 });

    expect(diff).toBe(
      lines('--- a/model.sql', '+++ b/model.sql', '@@ -1,3 +1,2 @@', ' a', '-b', ' c'),
    );
    expect(unifiedDiff(lines('a'), lines('b'), LABELS)).toContain('@@ -1 +1 @@\n-a\n+b\n');
  });

  it('numbers a text that is created or emptied from line 0', () => {
    expect(unifiedDiff('', lines('x', 'y'), LABELS)).toContain('@@ -0,0 +1,2 @@\n+x\n+y\n');
    expect(unifiedDiff(lines('x', 'y'), '', LABELS)).toContain('@@ -1,2 +0,0 @@\n-x\n-y\n');
  });

  it('shows three lines of context by default and only those', () => {
    const before = numbered(20);
    const after = before.map((line, index) => (index === 9 ? 'changed' : line));
    const diff = unifiedDiff(lines(...before), lines(...after), LABELS);

    expect(diff.split('\n').slice(2, -1)).toEqual([
      '@@ -7,7 +7,7 @@',
      ' line 7',
      ' line 8',
      ' line 9',
      '-line 10',
      '+changed',
      ' line 11',
      ' line 12',
      ' line 13',
    ]);
  });

  it('merges changes into one hunk when their context overlaps', () => {
    const before = numbered(20);
    const after = before.map((line, index) => (index === 4 || index === 10 ? `${line}!` : line));
    const diff = unifiedDiff(lines(...before), lines(...after), LABELS);

    expect(diff.match(/^@@/gm)).toHaveLength(1);
    expect(diff).toContain('@@ -2,13 +2,13 @@');
  });

  it('splits hunks only when more than twice the context lies between changes', () => {
    const before = numbered(20);
    const apart = before.map((line, index) => (index === 4 || index === 12 ? `${line}!` : line));
    const near = before.map((line, index) => (index === 4 || index === 11 ? `${line}!` : line));

    const diffApart = unifiedDiff(lines(...before), lines(...apart), LABELS);
    expect(diffApart.match(/^@@.*@@$/gm)).toEqual(['@@ -2,7 +2,7 @@', '@@ -10,7 +10,7 @@']);
    const diffNear = unifiedDiff(lines(...before), lines(...near), LABELS);
    expect(diffNear.match(/^@@.*@@$/gm)).toEqual(['@@ -2,14 +2,14 @@']);
  });

  it('honours a smaller context', () => {
    const before = numbered(10);
    const after = before.map((line, index) => (index === 4 ? 'changed' : line));
    const diff = unifiedDiff(lines(...before), lines(...after), { ...LABELS, context: 1 });

    expect(diff).toContain('@@ -4,3 +4,3 @@\n line 4\n-line 5\n+changed\n line 6\n');
  });

  it('marks a last line without a newline, on both sides', () => {
    const diff = unifiedDiff('a\nb', 'a\nc', LABELS);

    expect(diff).toBe(
      lines(
        '--- a/model.sql',
        '+++ b/model.sql',
        '@@ -1,2 +1,2 @@',
        ' a',
        '-b',
        '\\ No newline at end of file',
        '+c',
        '\\ No newline at end of file',
      ),
    );
  });

  it('shows adding the final newline as a change of the last line', () => {
    const diff = unifiedDiff('a\nb', 'a\nb\n', LABELS);

    expect(diff).toContain('@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+b\n');
  });

  it('marks an unchanged last line without a newline when it is shown as context', () => {
    const diff = unifiedDiff('a\nb', 'x\nb', LABELS);

    expect(diff).toContain('-a\n+x\n b\n\\ No newline at end of file\n');
  });

  it('produces a diff that turns the old text into the new one', () => {
    const text = fc
      .array(fc.constantFrom('a', 'b', 'c', 'd', ''), { maxLength: 30 })
      .chain((parts) => fc.constantFrom(parts.join('\n'), `${parts.join('\n')}\n`));
    fc.assert(
      fc.property(text, text, fc.nat(4), (before, after, context) => {
        const diff = unifiedDiff(before, after, { ...LABELS, context });

        expect(diff === '').toBe(before === after);
        expect(applyDiff(before, diff)).toBe(after);
      }),
      { numRuns: 500 },
    );
  });

  it('changes no more lines than a longest common subsequence leaves', () => {
    const lineList = fc.array(fc.constantFrom('a', 'b', 'c'), { maxLength: 25 });
    fc.assert(
      fc.property(lineList, lineList, (before, after) => {
        const diff = unifiedDiff(lines(...before), lines(...after), LABELS);
        const changed = diff.split('\n').filter((line) => /^[-+](?![-+]{2} )/.test(line));

        const common = longestCommonSubsequence(before, after);
        expect(changed).toHaveLength(before.length + after.length - 2 * common);
      }),
      { numRuns: 300 },
    );
  });

  it('finds a few changes scattered through a long text', () => {
    const before = numbered(50_000);
    const changedAt = new Set([10, 25_000, 49_990]);
    const after = before.map((line, index) => (changedAt.has(index) ? `${line}!` : line));
    const diff = unifiedDiff(lines(...before), lines(...after), LABELS);

    expect(diff.match(/^@@.*@@$/gm)).toEqual([
      '@@ -8,7 +8,7 @@',
      '@@ -24998,7 +24998,7 @@',
      '@@ -49988,7 +49988,7 @@',
    ]);
  });

  it('still produces a correct diff when the texts differ too much to search', () => {
    const before = [...numbered(3000), 'shared end'];
    const after = [...numbered(3000).map((line) => `${line} changed`), 'shared end'];
    const diff = unifiedDiff(lines(...before), lines(...after), LABELS);

    expect(applyDiff(lines(...before), diff)).toBe(lines(...after));
    expect(diff).toContain('@@ -1,3001 +1,3001 @@');
  });
});

/** Applies a unified diff to a text, checking every context and deleted line against it. */
function applyDiff(text: string, diff: string): string {
  const source = splitKeepingNewlines(text);
  const output: string[] = [];
  let position = 0;
  const diffLines = diff === '' ? [] : diff.slice(0, -1).split('\n').slice(2);

  for (const [index, line] of diffLines.entries()) {
    const hasNoNewline = diffLines[index + 1] === '\\ No newline at end of file';
    const written = `${line.slice(1)}${hasNoNewline ? '' : '\n'}`;
    const header = /^@@ -(\d+)(?:,(\d+))? \+\d+(?:,\d+)? @@$/.exec(line);
    if (header !== null) {
      const start = Number(header[1]) - (header[2] === '0' ? 0 : 1);
      output.push(...source.slice(position, start));
      position = start;
    } else if (line.startsWith('+')) {
      output.push(written);
    } else if (line.startsWith(' ') || line.startsWith('-')) {
      expect(source[position]).toBe(written);
      if (line.startsWith(' ')) output.push(written);
      position++;
    }
  }
  return [...output, ...source.slice(position)].join('');
}

function splitKeepingNewlines(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

function longestCommonSubsequence(a: readonly string[], b: readonly string[]): number {
  const previous = new Array<number>(b.length + 1).fill(0);
  for (const left of a) {
    let diagonal = 0;
    for (const [index, right] of b.entries()) {
      const above = previous[index + 1] ?? 0;
      previous[index + 1] = left === right ? diagonal + 1 : Math.max(above, previous[index] ?? 0);
      diagonal = above;
    }
  }
  return previous[b.length] ?? 0;
}
