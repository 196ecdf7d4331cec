import { describe, expect, it } from 'vitest';
import { SluiceError, SluiceErrors } from '../../src/core/errors.js';
import { BUILT_IN_MODEL_DEFAULTS, type ModelDefaults } from '../../src/core/model.js';
import { parseModelFile } from '../../src/project/model-file.js';
import { loadProject } from '../../src/project/project-loader.js';
import { errorOf } from '../helpers/errors.js';
import { runCli, writeProject } from '../helpers/temp-project.js';

const FILE = 'models/orders.sql';

function parse(header: string, defaults: ModelDefaults = BUILT_IN_MODEL_DEFAULTS) {
  return parseModelFile({
    file: FILE,
    absolutePath: '/p/models/orders.sql',
    text: `MODEL (\n  name shop.orders,\n${header}\n);\nSELECT 1 AS id`,
    defaults,
  });
}

/** The one error a header produces: code, message and `line:column`. */
function onlyError(header: string, defaults?: ModelDefaults) {
  let error: unknown;
  try {
    parse(header, defaults);
  } catch (caught) {
    error = caught;
  }
  if (!(error instanceof SluiceError)) throw new Error('expected the model file to be rejected');
  expect(error).not.toBeInstanceOf(SluiceErrors);
  const at = `${error.location?.line}:${error.location?.column}`;
  return { code: error.code, message: error.message, at };
}

describe('checking interval settings while a model file loads', () => {
  it('reports a cron that cannot be parsed at the cron, naming the model', () => {
    expect(onlyError("  cron '0 25 * * *'")).toEqual({
      code: 'model_header_invalid',
      message:
        "Model 'shop.orders' has cron '0 25 * * *', which is not a valid cron (invalid value for " +
        'hour: 25); write five fields (minute hour day-of-month month day-of-week) such as ' +
        "'0 2 * * *', or one of @hourly, @daily, @weekly, @monthly, @yearly",
      at: '3:8',
    });
    expect(onlyError("  cron '0 0 2 * * *'").message).toMatch(/with six fields/);
  });

  it('reports a cron finer than five minutes unless interval_unit is set', () => {
    expect(onlyError("  cron '*/2 * * * *'")).toMatchObject({
      message: expect.stringMatching(
        /^Model 'shop\.orders' has cron '\*\/2 \* \* \* \*', which runs more often than every five minutes/,
      ),
      at: '3:8',
    });
    expect(parse("  cron '*/2 * * * *',\n  interval_unit five_minute").cron).toBe('*/2 * * * *');
  });

  it('names the finest unit when interval_unit asks for minutes', () => {
    expect(onlyError('  interval_unit minute')).toEqual({
      code: 'model_header_invalid',
      message:
        "Property 'interval_unit' in model 'shop.orders' is 'minute', finer than five minutes; " +
        "Sluice's finest interval unit is five_minute: use it, or a coarser one",
      at: '3:17',
    });
  });

  it('reports a start after the end at the start', () => {
    expect(onlyError("  start '2024-02-01',\n  end '2024-01-31'")).toEqual({
      code: 'model_header_invalid',
      message:
        "Model 'shop.orders' has start '2024-02-01', which is not before its end '2024-01-31'; " +
        'give a start before the end, or remove end',
      at: '3:9',
    });
  });

  it('reports an unreadable start or end at its value', () => {
    expect(onlyError("  end 'next tuesday'")).toMatchObject({
      message: expect.stringMatching(
        /^Model 'shop\.orders' has end 'next tuesday', which is not a date/,
      ),
      at: '3:7',
    });
  });

  it('reads cron_tz and reports an unknown zone with a suggestion', () => {
    expect(parse("  cron_tz 'America/New_York'").cronTimeZone).toBe('America/New_York');
    expect(parse('  cron_tz UTC').cronTimeZone).toBe('UTC');
    expect(onlyError("  cron_tz 'America/New_Yrok'")).toEqual({
      code: 'model_header_invalid',
      message:
        "Property 'cron_tz' in model 'shop.orders' must be an IANA time zone such as " +
        "'Europe/Berlin' or 'UTC', not 'America/New_Yrok'. Did you mean 'America/New_York'?",
      at: '3:11',
    });
  });

  it('reports a bad cron from model_defaults at the header, naming the model', () => {
    const defaults = { ...BUILT_IN_MODEL_DEFAULTS, cron: '@every_day' };

    expect(onlyError('  kind FULL', defaults)).toMatchObject({
      message: expect.stringMatching(
        /^Model 'shop\.orders' has cron '@every_day', which is not an alias/,
      ),
      at: '1:1',
    });
  });
});

describe('loading a project with bad interval settings', () => {
  it('fails with every model whose cron or bounds are wrong', async () => {
    const root = await writeProject({
      'sluice.yaml': 'name: test\n',
      'models/a.sql': "MODEL (name shop.a, cron '* * * * *');\nSELECT 1 AS id",
      'models/b.sql': "MODEL (name shop.b, start '2024-03-01', end '2024-01-01');\nSELECT 1 AS id",
      'models/c.sql':
        "MODEL (name shop.c, cron '@daily', cron_tz 'Europe/Berlin');\nSELECT 1 AS id",
    });

    const error = await errorOf(loadProject(root));

    expect(error).toBeInstanceOf(SluiceErrors);
    expect(error.describe().split('\n')).toEqual([
      expect.stringMatching(
        /^models\/a\.sql:1:26: Model 'shop\.a' has cron '\* \* \* \* \*', which runs more often/,
      ),
      expect.stringMatching(
        /^models\/b\.sql:1:27: Model 'shop\.b' has start '2024-03-01', which is not before its end/,
      ),
    ]);
  });

  it('applies cron_tz from model_defaults', async () => {
    const root = await writeProject({
      'sluice.yaml': "name: test\nmodel_defaults:\n  cron_tz: 'Asia/Kolkata'\n",
      'models/a.sql': 'MODEL (name shop.a);\nSELECT 1 AS id',
    });

    const project = await loadProject(root);

    expect(project.models.get('shop.a')?.cronTimeZone).toBe('Asia/Kolkata');
  });

  it('makes sluice dag exit non-zero with the file, line and model', async () => {
    const root = await writeProject({
      'sluice.yaml': 'name: test\n',
      'models/a.sql': "MODEL (\n  name shop.a,\n  cron '0 0 * * * *'\n);\nSELECT 1 AS id",
    });

    const result = await runCli('--project', root, 'dag');

    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(
      "models/a.sql:3:8: Model 'shop.a' has cron '0 0 * * * *' with six fields",
    );
  });
});
