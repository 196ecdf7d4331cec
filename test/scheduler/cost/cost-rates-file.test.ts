import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCostRates, readCostRatesFile } from '../../../src/scheduler/cost/cost-rates-file.js';
import { errorOf } from '../../helpers/errors.js';

/** The cost rates file: YAML or JSON, each gateway one rate and a currency; errors name the field. */

describe('the cost rates file', () => {
  it('reads rates per compute hour and per TB scanned, from YAML or JSON', async () => {
    const yaml = parseCostRates(
      'rates.yaml',
      'gateways:\n' +
        '  warehouse: { per_compute_hour: 3.2, currency: USD }\n' +
        '  lake:      { per_tb_scanned: 5.0, currency: EUR }\n',
    );
    const folder = await mkdtemp(join(tmpdir(), 'sluice-rates-'));
    const path = join(folder, 'rates.json');
    await writeFile(path, '{"gateways": {"local": {"per_compute_hour": 0, "currency": "USD"}}}');
    const json = await readCostRatesFile(path).finally(() =>
      rm(folder, { recursive: true, force: true }),
    );

    expect([...yaml]).toEqual([
      ['warehouse', { kind: 'per_compute_hour', amount: 3.2, currency: 'USD' }],
      ['lake', { kind: 'per_tb_scanned', amount: 5, currency: 'EUR' }],
    ]);
    expect(json.get('local')).toEqual({ kind: 'per_compute_hour', amount: 0, currency: 'USD' });
  });

  it.each([
    [
      'a negative rate',
      'gateways:\n  warehouse: { per_compute_hour: -1, currency: USD }\n',
      "'gateways.warehouse.per_compute_hour'",
    ],
    [
      'a currency that is not a code',
      'gateways:\n  warehouse: { per_compute_hour: 1, currency: dollars }\n',
      "'gateways.warehouse.currency'",
    ],
    [
      'two rates for one gateway',
      'gateways:\n  lake: { per_compute_hour: 1, per_tb_scanned: 2, currency: USD }\n',
      "'gateways.lake'",
    ],
    ['no rate at all', 'gateways:\n  lake: { currency: USD }\n', "'gateways.lake'"],
    [
      'a misspelt key',
      'gateways:\n  lake: { per_tb_scaned: 2, currency: USD }\n',
      "Unknown key 'per_tb_scaned' at 'gateways.lake'",
    ],
    ['no gateways', 'rates: {}\n', "'rates'"],
  ])('refuses %s, naming the field', async (_what, text, field) => {
    const error = await errorOf(Promise.resolve().then(() => parseCostRates('rates.yaml', text)));

    expect(error.code).toBe('config_invalid');
    expect(error.message).toContain(field);
    expect(error.message).toContain('rates.yaml');
  });

  it('suggests the key meant, and says when the file cannot be read', async () => {
    const misspelt = await errorOf(
      Promise.resolve().then(() =>
        parseCostRates('rates.yaml', 'gateways:\n  lake: { per_tb_scaned: 2, currency: USD }\n'),
      ),
    );
    const missing = await errorOf(readCostRatesFile('/nonexistent/rates.yaml'));

    expect(misspelt.message).toContain('per_tb_scanned');
    expect(missing.message).toContain(
      "Could not read the cost rates file '/nonexistent/rates.yaml'",
    );
  });
});
