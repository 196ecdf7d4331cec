MODEL (
  name shop.daily_revenue,
  kind INCREMENTAL_BY_TIME_RANGE (time_column order_date, batch_size 30),
  cron '@daily',
  start '2024-01-01',
  grain (order_date, country),
  audits (not_null(columns := (order_date)))
);

-- Revenue per day and country; each run replaces the days of its interval.
SELECT
  order_date,
  country,
  COUNT(*) AS orders,
  SUM(amount) AS revenue
FROM shop.order_lines
WHERE order_date BETWEEN @start_ds AND @end_ds
GROUP BY order_date, country
