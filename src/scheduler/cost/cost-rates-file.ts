import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { SluiceError } from '../../core/errors.js';
import { parseYamlFile, validateYaml } from '../../project/yaml-file.js';
import type { CostRates, GatewayRate } from '../../state/tasks/attempt-pricing.js';

/**
 * The Scheduler's cost rates, per gateway name, from a YAML or JSON file (`sluice scheduler
 * --cost-rates FILE`):
 *
 *     gateways:
 *       warehouse: { per_compute_hour: 3.2, currency: USD }
 *       lake:      { per_tb_scanned: 5.0, currency: USD }
 *
 * Each gateway has exactly one rate and a currency. A gateway not named is not priced: its
 * attempts are recorded with their usage and no cost.
 */

const amountSchema = z.number().nonnegative().max(1e9);

const rateSchema = z
  .strictObject({
    per_compute_hour: amountSchema.optional(),
    per_tb_scanned: amountSchema.optional(),
    currency: z.string().regex(/^[A-Z]{3}$/, {
      message: 'must be a three-letter ISO 4217 currency code in capitals, such as USD',
    }),
  })
  .refine((rate) => (rate.per_compute_hour === undefined) !== (rate.per_tb_scanned === undefined), {
    message: 'give exactly one of per_compute_hour or per_tb_scanned',
  });

const ratesFileSchema = z.strictObject({
  /** By gateway name, as the project's sluice.yaml names its gateways. */
  gateways: z.record(z.string().min(1).max(128), rateSchema),
});

type RatesFile = z.infer<typeof ratesFileSchema>;

/** Parses the text of a rates file named `file` (for messages); errors name the field. */
export function parseCostRates(file: string, text: string): CostRates {
  const yaml = parseYamlFile(file, text);
  const parsed = validateYaml(yaml, ratesFileSchema, {
    allowedKeys: (path) => (path.length === 2 ? Object.keys(rateSchema.shape) : undefined),
  });
  return ratesOf(parsed);
}

/** Reads and parses a rates file. */
export async function readCostRatesFile(path: string): Promise<CostRates> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as { code?: string }).code ?? 'unreadable';
    throw new SluiceError(
      'usage',
      `Could not read the cost rates file '${path}' (${code}); check the path and that this ` +
        'user may read it',
    );
  }
  return parseCostRates(path, text);
}

function ratesOf(parsed: RatesFile): CostRates {
  const rates = new Map<string, GatewayRate>();
  for (const [gateway, rate] of Object.entries(parsed.gateways)) {
    rates.set(
      gateway,
      rate.per_compute_hour !== undefined
        ? { kind: 'per_compute_hour', amount: rate.per_compute_hour, currency: rate.currency }
        : { kind: 'per_tb_scanned', amount: rate.per_tb_scanned ?? 0, currency: rate.currency },
    );
  }
  return rates;
}
