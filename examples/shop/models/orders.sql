MODEL (
  name shop.orders,
  kind VIEW,
  grain order_id,
  description 'Valid orders from the application, with their amount'
);

SELECT
  o.order_id,
  o.customer_id,
  o.product_id,
  o.quantity,
  o.order_date,
  o.updated_at,
  o.quantity * p.unit_price AS amount
FROM raw.orders AS o
JOIN shop.products AS p ON p.product_id = o.product_id
WHERE o.quantity >= @VAR('min_order_quantity', 1)
