import { dailyOrdersModel } from '../../helpers/daily-orders.js';
import { postgresProjectConfig } from '../../helpers/engines.js';

/**
 * The project of the credential-promise test: a PostgreSQL gateway whose password is a
 * `${file:...}` reference, a time-range model applied first, and a full model added later.
 */

/** sluice.yaml with the `warehouse` gateway on the test server, its password read from a file. */
export function promiseProjectConfig(passwordFile: string): string {
  return postgresProjectConfig('promise', `      password: \${file:${passwordFile}}\n`);
}

/** A model of seven days in batches of two, so that its plan runs several evaluate tasks. */
export function ordersModel(schema: string): string {
  return dailyOrdersModel({ schema, batchSize: 2, end: '2024-01-07' });
}

/** A model added by the second plan. */
export function refundsModel(schema: string): string {
  return `MODEL (
  name ${schema}.refunds,
  kind FULL,
  cron '@daily'
);

SELECT 1 AS id
`;
}
