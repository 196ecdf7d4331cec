import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ColumnDefinition, ModelDefinition } from '../../src/core/model.js';
import { BUILT_IN_MODEL_DEFAULTS } from '../../src/core/model.js';
import { parseModelFile } from '../../src/project/model-file.js';
import { checkSeedFile } from '../../src/project/seed-files.js';

async function seedModel(csv: string, columns: string): Promise<[string, ModelDefinition]> {
  const root = await mkdtemp(join(tmpdir(), 'sluice-seed-'));
  await writeFile(join(root, 'customers.csv'), csv);
  const declared = columns === '' ? '' : `,\n  columns (${columns})`;
  const model = parseModelFile({
    file: 'models/customers.sql',
    absolutePath: join(root, 'models', 'customers.sql'),
    text: `MODEL (\n  name shop.customers,\n  kind SEED (path '../customers.csv')${declared}\n);\n`,
    defaults: BUILT_IN_MODEL_DEFAULTS,
  });
  return [root, model];
}

describe('checkSeedFile', () => {
  it('accepts a header that names the declared columns in another order and case', async () => {
    const [root, model] = await seedModel('Name,ID\nAda,1\n', 'id INT, name TEXT');

    expect(checkSeedFile(root, model)).toBeUndefined();
  });

  it('accepts any header when the model declares no columns', async () => {
    const [root, model] = await seedModel('id,name,extra\n1,Ada,x\n', '');

    expect(checkSeedFile(root, model)).toBeUndefined();
  });

  it('names header columns that the model does not declare', async () => {
    const [root, model] = await seedModel('id,name,nickname\n1,Ada,A\n', 'id INT, name TEXT');

    const error = checkSeedFile(root, model);

    expect(error?.code).toBe('seed_invalid');
    expect(error?.message).toContain(
      "Seed file 'customers.csv' has column 'nickname' that model 'shop.customers' does not " +
        'declare (it declares id, name)',
    );
    expect(error?.message).toContain('add the missing ones to the file or to columns (...)');
    expect(error?.location).toMatchObject({ file: 'models/customers.sql', line: 1 });
  });

  it('names missing and extra columns in one message', async () => {
    const [root, model] = await seedModel('id,full_name\n1,Ada\n', 'id INT, name TEXT');

    const message = checkSeedFile(root, model)?.message ?? '';

    expect(message).toContain(
      "Model 'shop.customers' declares column 'name' that seed file 'customers.csv' lacks " +
        "(its header has id, full_name). It has column 'full_name' that model",
    );
  });

  it('rejects a header with an unnamed or repeated column', async () => {
    const [root, unnamed] = await seedModel('id,,name\n1,2,3\n', '');
    const [root2, repeated] = await seedModel('id,name,ID\n1,2,3\n', '');

    expect(checkSeedFile(root, unnamed)?.message).toBe(
      "Column 2 of the header of seed file 'customers.csv' of model 'shop.customers' has no " +
        'name; name it',
    );
    expect(checkSeedFile(root2, repeated)?.message).toContain("names column 'id' twice");
  });

  it('reads a quoted header whose names hold commas and line breaks', async () => {
    const columns: ColumnDefinition[] = [];
    const [root, model] = await seedModel('"id","a,b","x\ny"\n1,2,3\n', '');

    expect(checkSeedFile(root, { ...model, columns })).toBeUndefined();
    expect(
      checkSeedFile(root, { ...model, columns: [{ name: 'id', type: 'INT' }] })?.message,
    ).toContain("has columns 'a,b', 'x\ny' that model");
  });
});
