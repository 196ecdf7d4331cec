MODEL (
  name shop.top_customers,
  kind FULL,
  owner finance,
  grain country,
  description 'The best customer of each country by lifetime revenue'
);

WITH ranked AS (
  SELECT
    c.country,
    c.name,
    t.lifetime_revenue,
    ROW_NUMBER() OVER (PARTITION BY c.country ORDER BY t.lifetime_revenue DESC) AS position
  FROM shop.customer_totals AS t
  JOIN shop.customers AS c ON c.customer_id = t.customer_id
)
SELECT country, name, lifetime_revenue
FROM ranked
WHERE position = 1
