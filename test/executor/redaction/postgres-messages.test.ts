import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createEngineAdapter } from '../../../src/engines/create-engine-adapter.js';
import type { EngineAdapter } from '../../../src/engines/engine-adapter.js';
import { redactDataValues } from '../../../src/executor/redaction/redact-data-values.js';
import { postgresTestSettings } from '../../helpers/engines.js';
import { expectRedacted, type RedactionCase } from './redaction-case.js';

/**
 * Real PostgreSQL failures before and after redaction. The server's full report (message, DETAIL,
 * HINT, CONTEXT) comes from the driver, since that is where the values are; the PostgreSQL
 * adapter leaves DETAIL out of its messages, and its messages are checked too. `{s}` in a
 * statement is this file's private schema.
 */

const SETUP = [
  'CREATE TABLE {s}.p (id INTEGER PRIMARY KEY, email TEXT UNIQUE, n INTEGER NOT NULL, c INTEGER CONSTRAINT c_positive CHECK (c > 0), s VARCHAR(5))',
  'CREATE TABLE {s}.ch (id INTEGER, pid INTEGER CONSTRAINT ch_pid_fkey REFERENCES {s}.p (id))',
  'CREATE TABLE {s}.pair (a INTEGER, b TEXT, PRIMARY KEY (a, b))',
  'CREATE TABLE {s}.ranges (r int4range, EXCLUDE USING gist (r WITH &&))',
  'CREATE TABLE {s}.u (e TEXT)',
  'CREATE TABLE {s}.loaded (id INTEGER, name TEXT)',
  "CREATE TYPE {s}.mood AS ENUM ('happy', 'sad')",
  "INSERT INTO {s}.p VALUES (987654, 'secret@example.com', 1, 1, 'a')",
  'INSERT INTO {s}.ch VALUES (1, 987654)',
  "INSERT INTO {s}.pair VALUES (7, 'secretpart) already exists. Key (x')",
  "INSERT INTO {s}.ranges VALUES ('[1,5)')",
  "INSERT INTO {s}.u VALUES ('Secretdup'), ('secretdup')",
];

const CASES: readonly RedactionCase[] = [
  {
    behaviour: 'the key of a primary key violation and keeps the constraint and column',
    sql: "INSERT INTO {s}.p VALUES (987654, 'other@example.com', 1, 1, 'a')",
    values: ['987654'],
    names: ['violates unique constraint "p_pkey"', 'Key (id)=(', ') already exists.'],
  },
  {
    behaviour: 'the key of a unique violation and keeps the constraint and column',
    sql: "INSERT INTO {s}.p VALUES (1, 'secret@example.com', 1, 1, 'a')",
    values: ['secret@example.com'],
    names: ['violates unique constraint "p_email_key"', 'Key (email)=('],
  },
  {
    behaviour: 'a composite key whose text value mimics the end of the detail',
    sql: "INSERT INTO {s}.pair VALUES (7, 'secretpart) already exists. Key (x')",
    values: ['secretpart', 'Key (x'],
    names: ['"pair_pkey"', 'Key (a, b)=(', ') already exists.'],
  },
  {
    behaviour: 'the failing row of a not-null violation and keeps the column and table',
    sql: "INSERT INTO {s}.p VALUES (2, 'notnull@example.com', NULL, 1, 'a')",
    values: ['notnull@example.com'],
    names: ['null value in column "n" of relation "p" violates not-null', 'Failing row contains ('],
  },
  {
    behaviour: 'the failing row of a check violation and keeps the constraint',
    sql: "INSERT INTO {s}.p VALUES (3, 'check@example.com', 1, -7, 'a')",
    values: ['check@example.com'],
    names: ['new row for relation "p" violates check constraint "c_positive"'],
  },
  {
    behaviour: 'a key missing from the table a foreign key references',
    sql: 'INSERT INTO {s}.ch VALUES (1, 555555)',
    values: ['555555'],
    names: ['foreign key constraint "ch_pid_fkey"', 'Key (pid)=(', 'is not present in table "p"'],
  },
  {
    behaviour: 'a key that a foreign key still references',
    sql: 'DELETE FROM {s}.p WHERE id = 987654',
    values: ['987654'],
    names: ['foreign key constraint "ch_pid_fkey" on table "ch"', 'is still referenced from'],
  },
  {
    behaviour: 'both keys of an exclusion constraint conflict',
    sql: "INSERT INTO {s}.ranges VALUES ('[3,7)')",
    values: ['[3,7)', '[1,5)'],
    names: ['exclusion constraint "ranges_r_excl"', 'conflicts with existing key (r)=('],
  },
  {
    behaviour: 'the duplicated key found while building a unique index',
    sql: 'CREATE UNIQUE INDEX u_lower ON {s}.u (lower(e))',
    values: ['secretdup'],
    names: ['could not create unique index "u_lower"', 'Key (lower(e))=(', 'is duplicated'],
  },
  {
    behaviour: 'the quoted string of invalid input syntax and keeps the type',
    sql: "SELECT CAST('secretword' AS INTEGER)",
    values: ['secretword'],
    names: ['invalid input syntax for type integer: "'],
  },
  {
    behaviour: 'a value that is not a label of an enum',
    sql: "SELECT 'secretmood'::{s}.mood",
    values: ['secretmood'],
    names: ['invalid input value for enum'],
  },
  {
    behaviour: 'a malformed array literal and keeps the detail',
    sql: "SELECT 'secretword'::int[]",
    values: ['secretword'],
    names: ['malformed array literal', 'Array value must start with "{"'],
  },
  {
    behaviour: 'a quoted number out of range for an integer',
    sql: "SELECT CAST('99999999999' AS INTEGER)",
    values: ['99999999999'],
    names: ['is out of range for type integer'],
  },
  {
    behaviour: 'a quoted number out of range for a double',
    sql: "SELECT CAST('1.5e999' AS DOUBLE PRECISION)",
    values: ['1.5e999'],
    names: ['is out of range for type double precision'],
  },
  {
    behaviour: 'a date out of range and keeps the hint',
    sql: "SELECT CAST('2020-13-45' AS DATE)",
    values: ['2020-13-45'],
    names: ['date/time field value out of range', 'different "datestyle" setting'],
  },
  {
    behaviour: 'a date out of range that the server prints without quotes',
    sql: 'SELECT make_date(2020, 13, 1)',
    values: ['2020-13-01'],
    names: ['date field value out of range'],
  },
  {
    behaviour: 'a value that does not fit a date format and keeps the format',
    sql: "SELECT to_date('secretword', 'YYYY-MM-DD')",
    // The server quotes only the first characters, as many as the format's field takes.
    values: ['secr'],
    names: ['invalid value "', 'for "YYYY"'],
  },
  {
    behaviour: 'an unknown time zone',
    sql: "SELECT now() AT TIME ZONE 'Secret/Zone'",
    values: ['Secret/Zone'],
    names: ['time zone "', 'not recognized'],
  },
  {
    behaviour: 'the token and the line of invalid JSON',
    sql: `SELECT '{"a": secretword}'::json`,
    values: ['secretword'],
    names: ['invalid input syntax for type json', 'Token "', 'JSON data, line 1: '],
  },
  {
    behaviour: 'the bytes of an invalid byte sequence and keeps the encoding',
    sql: String.raw`SELECT convert_from('\xc328'::bytea, 'UTF8')`,
    values: ['0xc3 0x28'],
    names: ['invalid byte sequence for encoding "UTF8"'],
  },
  {
    behaviour: 'a division by zero as it is, since it carries no value',
    sql: 'SELECT 10 / 0',
    values: [],
    names: ['division by zero'],
  },
  {
    behaviour: 'an integer overflow as it is, since it carries no value',
    sql: 'SELECT 2147483647 + 1',
    values: [],
    names: ['integer out of range'],
  },
  {
    behaviour: 'a numeric overflow as it is, since its detail names only the type',
    sql: 'SELECT CAST(12345.678 AS NUMERIC(4,2))',
    values: [],
    names: ['numeric field overflow', 'precision 4, scale 2'],
  },
  {
    behaviour: 'a too long string as it is, since the message names only the type',
    sql: "UPDATE {s}.p SET s = 'toolongsecret' WHERE id = 987654",
    values: [],
    names: ['value too long for type character varying(5)'],
  },
];

/** The server's report as a log would show it: message, then DETAIL, HINT and CONTEXT lines. */
function reportOf(error: pg.DatabaseError): string {
  const lines = [error.message];
  if (error.detail !== undefined) lines.push(`DETAIL:  ${error.detail}`);
  if (error.hint !== undefined) lines.push(`HINT:  ${error.hint}`);
  if (error.where !== undefined) lines.push(`CONTEXT:  ${error.where}`);
  return lines.join('\n');
}

async function failureOf(work: Promise<unknown>): Promise<Error> {
  const failure = await work.then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(failure).toBeInstanceOf(Error);
  return failure as Error;
}

describe.skipIf(inject('postgresSkipReason') !== '')('redacting PostgreSQL error messages', () => {
  const schema = `t${randomBytes(4).toString('hex')}_redaction`;
  const inSchema = (sql: string) => sql.replaceAll('{s}', schema);
  let client: pg.Client;
  let adapter: EngineAdapter;

  beforeAll(async () => {
    const settings = postgresTestSettings();
    client = new pg.Client({ ...settings, port: Number(settings.port) });
    await client.connect();
    adapter = await createEngineAdapter({
      gateway: 'test',
      type: 'postgres',
      settings,
      baseDir: process.cwd(),
    });
    await client.query(`CREATE SCHEMA ${schema}`);
    for (const sql of SETUP) await client.query(inSchema(sql));
  });

  afterAll(async () => {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await client.end();
    await adapter.close();
  });

  for (const testCase of CASES) {
    const verb = testCase.values.length === 0 ? 'leaves' : 'redacts';
    it(`${verb} ${testCase.behaviour}`, async () => {
      const sql = inSchema(testCase.sql);
      const serverError = await failureOf(client.query(sql));
      expect(serverError).toBeInstanceOf(pg.DatabaseError);
      expectRedacted(reportOf(serverError as pg.DatabaseError), testCase);

      const adapterMessage = redactDataValues((await failureOf(adapter.execute(sql))).message);
      for (const value of testCase.values) expect(adapterMessage).not.toContain(value);
    });
  }

  it('redacts the line a COPY failed on and keeps the column', async () => {
    const stream = client.query(copyFrom(`COPY ${schema}.loaded FROM STDIN`));
    const rows = Readable.from(['1\talice\n', 'secretcopy\tbob\n']);
    const serverError = await failureOf(pipeline(rows, stream));

    expectRedacted(reportOf(serverError as pg.DatabaseError), {
      behaviour: '',
      sql: '',
      values: ['secretcopy'],
      names: ['invalid input syntax for type integer', 'COPY loaded, line 2, column id: '],
    });
  });
});
