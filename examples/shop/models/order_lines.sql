MODEL (
  name shop.order_lines,
  kind EMBEDDED,
  description 'Orders with customer attributes; inlined into the models that use it'
);

SELECT o.*, c.country
FROM shop.orders AS o
LEFT JOIN shop.customers AS c USING (customer_id)
