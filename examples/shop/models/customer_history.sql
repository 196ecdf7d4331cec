MODEL (
  name shop.customer_history,
  kind SCD_TYPE_2 (unique_key customer_id, updated_at_name updated_at),
  description 'Every version of each customer, valid from one update to the next'
);

SELECT customer_id, name, country, updated_at
FROM shop.customers
