MODEL (
  name shop.customer_totals,
  kind INCREMENTAL_BY_UNIQUE_KEY (unique_key customer_id),
  grain customer_id,
  tags [finance, daily,],
);

SELECT
  customer_id,
  COUNT(*) AS orders,
  SUM(amount) AS lifetime_revenue,
  MAX(updated_at) AS last_order_at
FROM shop.orders
GROUP BY customer_id
