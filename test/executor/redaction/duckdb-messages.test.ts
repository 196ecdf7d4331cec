import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngineAdapter } from '../../../src/engines/create-engine-adapter.js';
import type { EngineAdapter } from '../../../src/engines/engine-adapter.js';
import { expectRedacted, type RedactionCase } from './redaction-case.js';

/**
 * Real DuckDB failures, as the DuckDB adapter words them (`DuckDB failed: Constraint Error: …`),
 * before and after redaction. DuckDB returns NULL for a division by zero instead of failing, and
 * does not check VARCHAR lengths, so those two kinds appear only in the PostgreSQL suite.
 */

const SETUP = [
  'CREATE TABLE p (id INTEGER PRIMARY KEY, email VARCHAR UNIQUE, n INTEGER NOT NULL, c INTEGER CHECK (c > 0))',
  'CREATE TABLE ch (id INTEGER, pid INTEGER REFERENCES p (id))',
  'CREATE TABLE pair (a INTEGER, b VARCHAR, PRIMARY KEY (a, b))',
  'CREATE TABLE typed (i INTEGER)',
  'CREATE TABLE loaded (id INTEGER, name VARCHAR)',
  "INSERT INTO p VALUES (42, 'secret@example.com', 1, 1)",
  'INSERT INTO ch VALUES (1, 42)',
  "INSERT INTO pair VALUES (7, 'secretpart')",
];

const CASES: readonly RedactionCase[] = [
  {
    behaviour: 'the key of a primary key violation and keeps its column',
    sql: "INSERT INTO p VALUES (42, 'other@example.com', 1, 1)",
    values: ['42'],
    names: ['Constraint Error', 'Duplicate key "id: ', 'violates primary key constraint'],
  },
  {
    behaviour: 'the key of a unique violation and keeps its column',
    sql: "INSERT INTO p VALUES (43, 'secret@example.com', 1, 1)",
    values: ['secret@example.com'],
    names: ['Duplicate key "email: ', 'violates unique constraint'],
  },
  {
    behaviour: 'every part of a composite key and keeps both columns',
    sql: "INSERT INTO pair VALUES (7, 'secretpart')",
    values: ['secretpart', ': 7'],
    names: ['"a: ', ', b: ', 'violates primary key constraint'],
  },
  {
    behaviour: 'a key missing from the referenced table of a foreign key',
    sql: 'INSERT INTO ch VALUES (2, 99999)',
    values: ['99999'],
    names: ['Violates foreign key constraint', 'does not exist in the referenced table'],
  },
  {
    behaviour: 'a key that a foreign key still references',
    sql: 'DELETE FROM p WHERE id = 42',
    values: ['42'],
    names: ['Violates foreign key constraint', '"pid: ', 'is still referenced'],
  },
  {
    behaviour: 'nothing from a NOT NULL violation, which names only the column',
    sql: 'INSERT INTO p VALUES (44, NULL, NULL, 1)',
    values: [],
    names: ['NOT NULL constraint failed: p.n'],
  },
  {
    behaviour: 'nothing from a CHECK violation, which names only the table and expression',
    sql: 'INSERT INTO p VALUES (45, NULL, 1, -7)',
    values: [],
    names: ['CHECK constraint failed on table p', 'CHECK((c > 0))'],
  },
  {
    behaviour: 'the single-quoted string of a failed conversion and keeps the type',
    sql: "SELECT CAST('secretword' AS INTEGER)",
    values: ['secretword'],
    names: ['Conversion Error: Could not convert string', 'to INT32'],
  },
  {
    behaviour: 'the string of a conversion while inserting and keeps the source column',
    sql: "INSERT INTO typed SELECT s FROM (SELECT 'secretword' AS s)",
    values: ['secretword'],
    names: ['to INT32', 'when casting from source column s'],
  },
  {
    behaviour: 'a quoted value that cannot be cast to a list type',
    sql: "SELECT 'secretword'::INTEGER[]",
    values: ['secretword'],
    names: ['Type VARCHAR with value', "can't be cast to the destination type INTEGER[]"],
  },
  {
    behaviour: 'a number out of range for the target type and keeps both types',
    sql: 'SELECT CAST(99999999999 AS INTEGER)',
    values: ['99999999999'],
    names: ['Type INT64 with value', 'out of range for the destination type INT32'],
  },
  {
    behaviour: 'a decimal value out of range and keeps the decimal type',
    sql: 'SELECT CAST(12345.678 AS DECIMAL(4,2))',
    values: ['12345.678'],
    names: ['Casting value', 'to type DECIMAL(4,2) failed: value is out of range'],
  },
  {
    behaviour: 'the operands of an integer overflow',
    sql: 'SELECT 2147483647::INTEGER + 1',
    values: ['2147483647'],
    names: ['Out of Range Error: Overflow in addition of INT32'],
  },
  {
    behaviour: 'a date whose field is out of range',
    sql: "SELECT CAST('2020-13-45' AS DATE)",
    values: ['2020-13-45'],
    names: ['date field value out of range'],
  },
  {
    behaviour: 'a date built from out-of-range parts',
    sql: 'SELECT make_date(2020, 13, 1)',
    values: ['2020-13-1'],
    names: ['Date out of range'],
  },
  {
    behaviour: 'a timestamp in the wrong format and keeps the expected format',
    sql: "SELECT CAST('secretword' AS TIMESTAMP)",
    values: ['secretword'],
    names: ['invalid timestamp field format', 'expected format is'],
  },
  {
    behaviour: 'an interval unit taken from the value',
    sql: "SELECT CAST('1 secretunits' AS INTERVAL)",
    values: ['secretunits'],
    names: ['extract specifier', 'not recognized'],
  },
  {
    behaviour: 'the input and its echo line of a failed strptime and keeps the format',
    sql: "SELECT strptime('secretword', '%Y-%m-%d')",
    values: ['secretword'],
    names: ['Could not parse string', 'according to format specifier "%Y-%m-%d"'],
  },
  {
    behaviour: 'the string of a failed blob conversion',
    sql: String.raw`SELECT CAST('\xZZsecret' AS BLOB)`,
    values: ['secret'],
    names: ['Invalid hex escape code encountered', 'blob conversion of string'],
  },
  {
    behaviour: 'quoted text of a conversion error that no specific wording covers',
    sql: "SELECT 'secret'::BIT",
    values: ["'s'"],
    names: ['Conversion Error: Invalid character encountered in string -> bit conversion'],
  },
  {
    behaviour: 'the input of malformed JSON',
    sql: `SELECT CAST('{"secretword":' AS JSON)`,
    values: ['secretword'],
    names: ['Malformed JSON at byte', 'Input: '],
  },
];

describe('redacting DuckDB error messages', () => {
  let adapter: EngineAdapter;
  let folder: string;

  beforeAll(async () => {
    adapter = await createEngineAdapter({
      gateway: 'test',
      type: 'duckdb',
      settings: { database: ':memory:' },
      baseDir: process.cwd(),
    });
    for (const sql of SETUP) await adapter.execute(sql);
    folder = await mkdtemp(join(tmpdir(), 'sluice-redaction-'));
  });

  afterAll(async () => {
    await adapter.close();
    await rm(folder, { recursive: true, force: true });
  });

  async function messageOf(sql: string): Promise<string> {
    const failure = await adapter.execute(sql).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(Error);
    return (failure as Error).message;
  }

  for (const testCase of CASES) {
    const verb = testCase.values.length === 0 ? 'leaves' : 'redacts';
    it(`${verb} ${testCase.behaviour}`, async () => {
      expectRedacted(await messageOf(testCase.sql), testCase);
    });
  }

  it('redacts the original line and the value of a CSV conversion error', async () => {
    const path = join(folder, 'people.csv');
    await writeFile(path, 'id,name\n1,alice\nsecretid,secretname\n');

    const before = await messageOf(`COPY loaded FROM '${path}' (HEADER)`);
    const after = expectRedacted(before, {
      behaviour: '',
      sql: '',
      values: ['secretid', 'secretname'],
      names: ['CSV Error on Line: 3', 'Original Line: ', 'Error when converting column "id"'],
    });

    expect(after).toContain("to 'INTEGER'");
  });
});
