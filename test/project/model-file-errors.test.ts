import { describe, expect, it } from 'vitest';
import { SluiceError, SluiceErrors } from '../../src/core/errors.js';
import { BUILT_IN_MODEL_DEFAULTS } from '../../src/core/model.js';
import { parseModelFile } from '../../src/project/model-file.js';

const FILE = 'models/orders.sql';

function failure(text: string): SluiceError {
  try {
    parseModelFile({
      file: FILE,
      absolutePath: '/p/models/orders.sql',
      text,
      defaults: BUILT_IN_MODEL_DEFAULTS,
    });
  } catch (error) {
    if (error instanceof SluiceError) return error;
    throw error;
  }
  throw new Error('expected the model file to be rejected');
}

/** The one error a file produces, with its location flattened for comparison. */
function onlyError(text: string): { code: string; message: string; at: string } {
  const error = failure(text);
  expect(error).not.toBeInstanceOf(SluiceErrors);
  return { code: error.code, message: error.message, at: atOf(error) };
}

function atOf(error: SluiceError): string {
  return `${error.location?.line}:${error.location?.column}`;
}

describe('errors in the MODEL header', () => {
  it('stops at a malformed header', () => {
    const error = onlyError('MODEL (name shop.orders, kind FULL (;\nSELECT 1');

    expect(error.code).toBe('model_header_invalid');
    expect(error.at).toBe('1:36');
  });

  it('suggests the closest property for an unknown one', () => {
    const error = onlyError("MODEL (\n  name shop.orders,\n  crn '@daily'\n);\nSELECT 1");

    expect(error).toEqual({
      code: 'model_property_unknown',
      message: "Unknown property 'crn' in model 'shop.orders'. Did you mean 'cron'?",
      at: '3:3',
    });
  });

  it('lists the supported properties when nothing is close', () => {
    const error = onlyError('MODEL (name a.b, colour red); SELECT 1');

    expect(error.message).toMatch(
      /^Unknown property 'colour' in model 'a\.b'\. Supported properties: name, kind/,
    );
  });

  it('points a kind parameter written outside the kind back into it', () => {
    const error = onlyError('MODEL (name a.b, batch_size 3); SELECT 1');

    expect(error.code).toBe('model_property_unknown');
    expect(error.message).toContain("'batch_size' is a parameter of the kind; move it inside");
  });

  it('suggests the closest kind parameter for an unknown one', () => {
    const error = onlyError(
      'MODEL (name a.b, kind INCREMENTAL_BY_TIME_RANGE (time_column d, batchsize 3)); SELECT 1',
    );

    expect(error).toEqual({
      code: 'model_property_unknown',
      message:
        "Unknown parameter 'batchsize' for kind INCREMENTAL_BY_TIME_RANGE in model 'a.b'. Did you mean 'batch_size'?",
      at: '1:65',
    });
  });

  it('names the parameters a kind takes when an unknown one is not close to any', () => {
    expect(onlyError('MODEL (name a.b, kind VIEW (unique_key id)); SELECT 1').message).toBe(
      "Unknown parameter 'unique_key' for kind VIEW in model 'a.b'. Kind VIEW takes materialized.",
    );
    expect(onlyError('MODEL (name a.b, kind FULL (x 1)); SELECT 1').message).toContain(
      'Kind FULL takes no parameters.',
    );
  });

  it('suggests the closest kind for an unknown one', () => {
    const error = onlyError('MODEL (name a.b, kind INCREMENTAL_BY_TIME (time_column d)); SELECT 1');

    expect(error).toEqual({
      code: 'model_kind_unknown',
      message:
        "Unknown kind 'INCREMENTAL_BY_TIME' in model 'a.b'. Did you mean 'INCREMENTAL_BY_TIME_RANGE'?",
      at: '1:23',
    });
  });

  it('names SQLMesh kinds that are not supported yet', () => {
    for (const kind of [
      'INCREMENTAL_BY_PARTITION',
      'incremental_unmanaged',
      'SCD_TYPE_2_BY_COLUMN',
      'MANAGED',
      'CUSTOM',
    ]) {
      const error = onlyError(`MODEL (name a.b, kind ${kind}); SELECT 1`);

      expect(error.code, kind).toBe('model_not_supported');
      expect(error.message).toContain(
        `Kind '${kind.toUpperCase()}' in model 'a.b' is a SQLMesh feature that Sluice does not support yet`,
      );
    }
  });

  it('names SQLMesh properties that are not supported yet', () => {
    const error = onlyError('MODEL (\n  name x.y,\n  partitioned_by (day)\n);\nSELECT 1');

    expect(error).toEqual({
      code: 'model_not_supported',
      message:
        "Property 'partitioned_by' in model 'x.y' is a SQLMesh feature that Sluice does not support yet; remove it",
      at: '3:3',
    });
    for (const property of [
      'column_descriptions',
      'references',
      'physical_properties',
      'gateway',
      'signals',
    ]) {
      expect(onlyError(`MODEL (name x.y, ${property} (a)); SELECT 1`).code, property).toBe(
        'model_not_supported',
      );
    }
  });

  it('names SQLMesh kind parameters that are not supported yet', () => {
    const error = onlyError(
      'MODEL (name x.y, kind INCREMENTAL_BY_UNIQUE_KEY (unique_key id, when_matched x)); SELECT 1',
    );

    expect(error.code).toBe('model_not_supported');
    expect(error.message).toBe(
      "Parameter 'when_matched' of kind INCREMENTAL_BY_UNIQUE_KEY in model 'x.y' is a SQLMesh feature that Sluice does not support yet; remove it",
    );
    expect(error.at).toBe('1:65');
  });

  it('asks for a time column when an incremental by time model has none', () => {
    const error = onlyError(
      'MODEL (\n  name a.b,\n  kind INCREMENTAL_BY_TIME_RANGE (batch_size 1)\n); SELECT 1',
    );

    expect(error).toEqual({
      code: 'model_header_invalid',
      message:
        "Model 'a.b' has kind INCREMENTAL_BY_TIME_RANGE but no time_column; add `time_column <column>` to the kind: INCREMENTAL_BY_TIME_RANGE (time_column order_date)",
      at: '3:8',
    });
  });

  it('asks for a unique key and a seed path', () => {
    expect(onlyError('MODEL (name a.b, kind SCD_TYPE_2); SELECT 1').message).toContain(
      "Model 'a.b' has kind SCD_TYPE_2 but no unique_key; add `unique_key <column>`",
    );
    expect(onlyError('MODEL (name a.b, kind SEED (batch_size 2))').message).toContain(
      "Model 'a.b' has kind SEED but no path; add `path '<file>.csv'`",
    );
  });

  it('names the property and the expected type for a value of the wrong type', () => {
    const cases: [string, string, string][] = [
      [
        "kind FULL, enabled 'no'",
        "Property 'enabled' in model 'a.b' must be true or false, not a string",
        '1:37',
      ],
      [
        'cron daily',
        "Property 'cron' in model 'a.b' must be a cron string such as '@daily', not a name",
        '1:23',
      ],
      [
        "kind INCREMENTAL_BY_UNIQUE_KEY (unique_key id, batch_size 'x')",
        "Parameter 'batch_size' of kind INCREMENTAL_BY_UNIQUE_KEY in model 'a.b' must be a positive integer, not a string",
        '1:76',
      ],
      [
        'kind INCREMENTAL_BY_TIME_RANGE (time_column d, batch_size 0)',
        "Parameter 'batch_size' of kind INCREMENTAL_BY_TIME_RANGE in model 'a.b' must be a positive integer, not 0",
        '1:76',
      ],
      [
        'kind INCREMENTAL_BY_TIME_RANGE (time_column d, lookback -1)',
        "Parameter 'lookback' of kind INCREMENTAL_BY_TIME_RANGE in model 'a.b' must be a non-negative integer, not -1",
        '1:74',
      ],
      [
        'kind VIEW (materialized 1)',
        "Parameter 'materialized' of kind VIEW in model 'a.b' must be true or false, not 1",
        '1:42',
      ],
      [
        'interval_unit days',
        "Property 'interval_unit' in model 'a.b' must be one of five_minute, quarter_hour, half_hour, hour, day, month, year, not 'days'. Did you mean 'day'?",
        '1:32',
      ],
      [
        'columns (id)',
        "Each column of model 'a.b' needs a name and a type, such as `id INT`",
        '1:27',
      ],
    ];
    for (const [property, message, at] of cases) {
      const error = onlyError(`MODEL (name a.b, ${property}); SELECT 1`);
      expect(error, property).toEqual({ code: 'model_header_invalid', message, at });
    }
  });

  it('reports a property without a value', () => {
    const error = onlyError('MODEL (name a.b, cron); SELECT 1');

    expect(error.message).toBe(
      "Property 'cron' in model 'a.b' has no value; give it a cron string such as '@daily'",
    );
    expect(error.at).toBe('1:18');
  });

  it('reports two values where a comma is missing', () => {
    const error = onlyError("MODEL (name a.b, cron '@daily' start '2024-01-01'); SELECT 1");

    expect(error.message).toContain("Property 'cron' in model 'a.b' has more than one value");
    expect(error.at).toBe('1:32');
  });

  it('reports a property set twice, naming both lines', () => {
    const error = onlyError('MODEL (\n  name a.b,\n  grain a,\n  grains [b]\n); SELECT 1');

    expect(error.message).toBe(
      "Property 'grains' is set twice in model 'a.b' (lines 3 and 4); keep one",
    );
    expect(error.at).toBe('4:3');
  });

  it('asks for a name when the header has none', () => {
    const error = onlyError('MODEL (kind FULL); SELECT 1');

    expect(error.message).toBe(
      "Model file 'models/orders.sql' has no name; add `name <schema>.<table>` to its MODEL header",
    );
    expect(error.at).toBe('1:1');
  });

  it('asks for a schema in the model name', () => {
    expect(onlyError('MODEL (name orders); SELECT 1').message).toContain(
      "Model name 'orders' must be schema.table or catalog.schema.table",
    );
  });

  it('reports a dialect Sluice does not support', () => {
    const error = onlyError('MODEL (name a.b, dialect snowflake); SELECT 1');

    expect(error.code).toBe('model_not_supported');
    expect(error.message).toContain("Dialect 'snowflake' in model 'a.b' is not supported");
  });

  it('asks for named audit arguments', () => {
    expect(onlyError('MODEL (name a.b, audits (not_null(id))); SELECT 1').message).toContain(
      "Audit 'not_null' in model 'a.b' takes named arguments",
    );
  });
});

describe('errors around the query', () => {
  it('asks for a query when there is none', () => {
    const error = onlyError('MODEL (name a.b);\n@DEF(x, 1);');

    expect(error).toEqual({
      code: 'model_query_invalid',
      message: "Model 'a.b' has no query; add a SELECT statement after the MODEL header",
      at: '1:1',
    });
  });

  it('names both lines when there are two queries', () => {
    const error = onlyError('MODEL (name a.b);\nSELECT 1;\nINSERT INTO t VALUES (1);\nSELECT 2');

    expect(error.code).toBe('model_query_invalid');
    expect(error.message).toContain("Model 'a.b' has more than one query (lines 2 and 4)");
    expect(error.at).toBe('4:1');
  });

  it('rejects a query in a seed or external model', () => {
    const seed = onlyError("MODEL (name a.b, kind SEED (path 'x.csv'));\nSELECT 1");
    const external = onlyError('MODEL (name a.b, kind EXTERNAL);\nSELECT 1');

    expect(seed.message).toBe(
      "Model 'a.b' has kind SEED, which takes no query; remove the query at line 2",
    );
    expect(seed.at).toBe('2:1');
    expect(external.message).toContain('kind EXTERNAL, which takes no query');
  });

  it('does not ask for a query when the kind itself is unknown', () => {
    expect(onlyError('MODEL (name a.b, kind SEEED)').code).toBe('model_kind_unknown');
  });
});

describe('several problems in one file', () => {
  it('reports independent problems together, in file order', () => {
    const error = failure(`MODEL (
  name shop.orders,
  crn '@daily',
  kind INCREMENTAL_BY_TIME_RANGE (batch_size 'x'),
  partitioned_by day
);
SELECT 1;
SELECT 2`);

    expect(error).toBeInstanceOf(SluiceErrors);
    const errors = (error as SluiceErrors).errors;
    expect(errors.map((each) => [each.code, atOf(each)])).toEqual([
      ['model_property_unknown', '3:3'],
      ['model_header_invalid', '4:8'],
      ['model_header_invalid', '4:46'],
      ['model_not_supported', '5:3'],
      ['model_query_invalid', '8:1'],
    ]);
    expect(errors[1]?.message).toContain('no time_column');
    expect(errors[2]?.message).toContain("Parameter 'batch_size'");
    expect(error.describe()).toContain('models/orders.sql:3:3: Unknown property');
  });

  it('names the file in messages when the model name is missing', () => {
    const error = failure('MODEL (cron 1, kind FULL)');

    expect(error).toBeInstanceOf(SluiceErrors);
    expect((error as SluiceErrors).errors.map((each) => each.message)).toEqual([
      "Model file 'models/orders.sql' has no name; add `name <schema>.<table>` to its MODEL header",
      "Model file 'models/orders.sql' has no query; add a SELECT statement after the MODEL header",
      "Property 'cron' in model file 'models/orders.sql' must be a cron string such as '@daily', not 1",
    ]);
  });
});
