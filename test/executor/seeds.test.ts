import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SluiceError } from '../../src/core/errors.js';
import { BUILT_IN_MODEL_DEFAULTS, type Model } from '../../src/core/model.js';
import type { TableName } from '../../src/engines/engine-adapter.js';
import { loadSeed } from '../../src/executor/seeds/load-seed.js';
import { parseModelFile } from '../../src/project/model-file.js';
import { enginesUnderTest, type TestEngine } from '../helpers/engines.js';

/** A SEED model over `file` in `folder`, declaring `columns` when not empty. */
function seedModel(folder: string, file: string, columns = ''): Model {
  const declared = columns === '' ? '' : `, columns (${columns})`;
  const definition = parseModelFile({
    file: 'models/seed.sql',
    absolutePath: join(folder, 'models', 'seed.sql'),
    text: `MODEL (name shop.people, kind SEED (path '../${file}')${declared});\n`,
    defaults: BUILT_IN_MODEL_DEFAULTS,
  });
  return { ...definition, dependencies: [], externalTables: [] };
}

async function failureOf(promise: Promise<unknown>): Promise<SluiceError> {
  return promise.then(
    () => {
      throw new Error('expected the load to fail');
    },
    (error: SluiceError) => error,
  );
}

for (const engine of enginesUnderTest()) {
  describe.skipIf(engine.skipReason !== '')(`loadSeed on ${engine.name}`, () => {
    let test: TestEngine;
    let folder: string;
    let tableCount = 0;

    beforeAll(async () => {
      test = await engine.open();
      folder = await mkdtemp(join(tmpdir(), 'sluice-seeds-'));
    });
    afterAll(async () => {
      await test?.cleanup();
    });

    /** Writes a CSV file and gives a model over it plus a fresh target table. */
    async function seed(csv: string, columns = ''): Promise<[Model, TableName, string]> {
      tableCount++;
      const file = `seed_${tableCount}.csv`;
      const path = join(folder, file);
      await writeFile(path, csv);
      const target = { schema: test.schema('shop'), name: `people_${tableCount}` };
      return [seedModel(folder, file, columns), target, path];
    }

    async function rowsOf(target: TableName, orderBy = 'id') {
      const result = await test.adapter.query(
        `SELECT * FROM ${test.adapter.quoteTable(target)} ORDER BY ${orderBy}`,
      );
      return result.rows;
    }

    async function typesOf(target: TableName) {
      const columns = (await test.adapter.describeTable(target)) ?? [];
      return Object.fromEntries(columns.map((column) => [column.name, column.type]));
    }

    it('creates the table with the declared types and loads every row', async () => {
      const [model, target] = await seed(
        'id,name,price\n1,Notebook,4.50\n2,Pen,1.20\n',
        'id INTEGER, name TEXT, price DECIMAL(10, 2)',
      );

      const loaded = await loadSeed(test.adapter, model, target);

      expect(loaded).toBe(2);
      const types = await typesOf(target);
      expect(types.id).toBe('INTEGER');
      expect(types.price).toMatch(/^(DECIMAL|NUMERIC)\(10, ?2\)$/);
      expect(await rowsOf(target)).toEqual([
        { id: 1, name: 'Notebook', price: 4.5 },
        { id: 2, name: 'Pen', price: 1.2 },
      ]);
    });

    it('infers integer, double, boolean, date, timestamp and text columns', async () => {
      const [model, target] = await seed(
        'id,amount,active,day,at,name,nothing\n' +
          '1,4.5,true,2024-01-01,2024-01-01 10:30:00,Ada,\n' +
          '2,,FALSE,,2024-01-02T00:00:00.250,,\n' +
          '3,7,,2024-02-29,,Grace,\n',
      );

      expect(await loadSeed(test.adapter, model, target)).toBe(3);

      const text = engine.name === 'duckdb' ? 'VARCHAR' : 'TEXT';
      const double = engine.name === 'duckdb' ? 'DOUBLE' : 'DOUBLE PRECISION';
      expect(await typesOf(target)).toEqual({
        id: 'BIGINT',
        amount: double,
        active: 'BOOLEAN',
        day: 'DATE',
        at: 'TIMESTAMP',
        name: text,
        nothing: text,
      });
      expect(await rowsOf(target)).toEqual([
        {
          id: 1,
          amount: 4.5,
          active: true,
          day: '2024-01-01',
          at: new Date('2024-01-01T10:30:00Z'),
          name: 'Ada',
          nothing: null,
        },
        {
          id: 2,
          amount: null,
          active: false,
          day: null,
          at: new Date('2024-01-02T00:00:00.250Z'),
          name: null,
          nothing: null,
        },
        {
          id: 3,
          amount: 7,
          active: null,
          day: '2024-02-29',
          at: null,
          name: 'Grace',
          nothing: null,
        },
      ]);
    });

    it('reads quoted fields holding commas, doubled quotes and line breaks, after a BOM', async () => {
      const [model, target] = await seed(
        '\uFEFFid,"Full Name",note\r\n' +
          '1,"Lovelace, Ada","said ""hello"""\r\n' +
          '2,Hopper,"two\nlines"\r\n' +
          '3,"",plain\r\n',
      );

      expect(await loadSeed(test.adapter, model, target)).toBe(3);

      expect(await rowsOf(target)).toEqual([
        { id: 1, 'full name': 'Lovelace, Ada', note: 'said "hello"' },
        { id: 2, 'full name': 'Hopper', note: 'two\nlines' },
        { id: 3, 'full name': '', note: 'plain' },
      ]);
    });

    it('replaces the rows on reload and keeps the table, so a view over it still works', async () => {
      const [model, target, path] = await seed('id,name\n1,Ada\n2,Grace\n3,Linus\n');
      await loadSeed(test.adapter, model, target);
      const view = { schema: target.schema, name: `${target.name}_view` };
      await test.adapter.execute(
        `CREATE VIEW ${test.adapter.quoteTable(view)} AS SELECT * FROM ${test.adapter.quoteTable(target)}`,
      );

      await writeFile(path, 'id,name\n7,Barbara\n');
      const loaded = await loadSeed(test.adapter, model, target);

      expect(loaded).toBe(1);
      expect(await rowsOf(view)).toEqual([{ id: 7, name: 'Barbara' }]);
    });

    it('loads a file with only a header as an empty table', async () => {
      const [model, target] = await seed('id,name\n');

      expect(await loadSeed(test.adapter, model, target)).toBe(0);
      expect(await rowsOf(target)).toEqual([]);
    });

    it('refuses a header that does not match the declared columns and creates nothing', async () => {
      const [model, target] = await seed(
        'id,name,nickname\n1,Ada,A\n',
        'id INT, name TEXT, country TEXT',
      );

      const error = await failureOf(loadSeed(test.adapter, model, target));

      expect(error.code).toBe('seed_invalid');
      expect(error.message).toContain("Model 'shop.people' declares column 'country'");
      expect(error.message).toContain(`seed_${tableCount}.csv`);
      expect(error.message).toContain(
        "has column 'nickname' that model 'shop.people' does not declare",
      );
      expect(await test.adapter.tableExists(target)).toBe(false);
    });

    it('rejects a value that does not convert and leaves the previous rows intact', async () => {
      const [model, target, path] = await seed(
        'id,name\n1,Ada\n2,Grace\n',
        'id INTEGER, name TEXT',
      );
      await loadSeed(test.adapter, model, target);

      await writeFile(path, 'id,name\n3,Linus\nabc,Bad\n');
      const error = await failureOf(loadSeed(test.adapter, model, target));

      expect(error.code).toBe('seed_invalid');
      expect(error.message).toContain(`Seed file '`);
      expect(error.message).toContain(
        `seed_${tableCount}.csv' of model 'shop.people' could not be loaded`,
      );
      expect(error.message).toContain('Nothing was changed');
      expect(await rowsOf(target)).toEqual([
        { id: 1, name: 'Ada' },
        { id: 2, name: 'Grace' },
      ]);
    });

    it('fails a row after the sample that does not fit the inferred type, suggesting columns', async () => {
      const [model, target] = await seed('id,code\n1,10\n2,20\n3,x30\n');

      const error = await failureOf(loadSeed(test.adapter, model, target, { sampleRows: 2 }));

      expect(error.code).toBe('seed_invalid');
      expect(error.message).toContain('declare the column types with columns (...)');
      expect(await test.adapter.tableExists(target)).toBe(false);
    });

    it('names the model when the engine rejects a declared type', async () => {
      const [model, target] = await seed('id,name\n1,Ada\n', 'id INTEGRAL_NUMBER, name TEXT');

      const error = await failureOf(loadSeed(test.adapter, model, target));

      expect(error.code).toBe('engine_type_rejected');
      expect(error.message).toContain("seed model 'shop.people'");
      expect(error.message).toContain('INTEGRAL_NUMBER');
      expect(await test.adapter.tableExists(target)).toBe(false);
    });

    it('replaces the table in the same load when the columns change', async () => {
      const [model, target, path] = await seed('id,name\n1,Ada\n');
      await loadSeed(test.adapter, model, target);

      await writeFile(path, 'id,name,country\n1,Ada,GB\n');
      await loadSeed(test.adapter, model, target);

      expect(await rowsOf(target)).toEqual([{ id: 1, name: 'Ada', country: 'GB' }]);
    });
  });
}
