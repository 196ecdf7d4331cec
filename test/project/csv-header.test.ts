import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCsvHeader, readCsvHeader } from '../../src/project/csv-header.js';

describe('parseCsvHeader', () => {
  it('splits the first line at commas', () => {
    expect(parseCsvHeader('id,name,amount\n1,Ada,4.5\n')).toEqual(['id', 'name', 'amount']);
  });

  it('unquotes fields and keeps commas, doubled quotes and line breaks inside quotes', () => {
    expect(parseCsvHeader('"a,b","say ""hi""","two\nlines",c\r\n1,2,3,4')).toEqual([
      'a,b',
      'say "hi"',
      'two\nlines',
      'c',
    ]);
  });

  it('skips a byte order mark and stops at a carriage return', () => {
    expect(parseCsvHeader('\uFEFFid,name\r\n1,Ada')).toEqual(['id', 'name']);
  });

  it('gives one empty field for empty text', () => {
    expect(parseCsvHeader('')).toEqual(['']);
  });
});

describe('readCsvHeader', () => {
  it('reads the header of a file and gives undefined for a missing one', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'sluice-csv-'));
    await writeFile(join(folder, 'a.csv'), '\uFEFF"id",name\n1,Ada\n');

    expect(readCsvHeader(join(folder, 'a.csv'))).toEqual(['id', 'name']);
    expect(readCsvHeader(join(folder, 'missing.csv'))).toBeUndefined();
  });
});
