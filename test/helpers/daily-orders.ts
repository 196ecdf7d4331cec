/**
 * The daily incremental model many tests plan and run: one row a day of January 2024 from
 * `generate_series`, so that it needs no source table, on DuckDB and PostgreSQL alike.
 */

/** What varies between the tests that use it. */
export type DailyOrders = {
  readonly schema: string;
  readonly batchSize: number;
  /** The model's last day, such as `2024-01-07`. */
  readonly end: string;
  /** The `amount` column's expression over `t.d` (default `2`). */
  readonly amount?: string;
  /** A condition added to the interval's (`AND ...`), such as a pause. */
  readonly alsoWhere?: string;
};

/** `models/orders.sql`: `SCHEMA.orders`, INCREMENTAL_BY_TIME_RANGE on `day`, cron @daily. */
export function dailyOrdersModel(model: DailyOrders): string {
  const extra = model.alsoWhere === undefined ? '' : ` AND ${model.alsoWhere}`;
  return `MODEL (
  name ${model.schema}.orders,
  kind INCREMENTAL_BY_TIME_RANGE (time_column day, batch_size ${model.batchSize}),
  start '2024-01-01',
  end '${model.end}',
  cron '@daily'
);

SELECT CAST(t.d AS DATE) AS day, ${model.amount ?? '2'} AS amount
FROM generate_series(TIMESTAMP '2024-01-01', TIMESTAMP '2024-01-31', INTERVAL '1 day') AS t(d)
WHERE CAST(t.d AS DATE) BETWEEN @start_ds AND @end_ds${extra}
`;
}
