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
  return `MODEL (
  name ${schema}.orders,
  kind INCREMENTAL_BY_TIME_RANGE (time_column day, batch_size 2),
  start '2024-01-01',
  end '2024-01-07',
  cron '@daily'
);

SELECT CAST(t.d AS DATE) AS day, 2 AS amount
FROM generate_series(TIMESTAMP '2024-01-01', TIMESTAMP '2024-01-31', INTERVAL '1 day') AS t(d)
WHERE CAST(t.d AS DATE) BETWEEN @start_ds AND @end_ds
`;
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
